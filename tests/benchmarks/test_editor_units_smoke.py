"""The editor's unit measurement (benchmarks/editor_units.py) cannot rot: it runs here at a tiny size, in its own
process and its own SQLite file, as it does by hand at 1,000 units."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_editor_and_the_unit_search_answer_and_are_measured(tmp_path):
    done = subprocess.run(
        [sys.executable, "benchmarks/editor_units.py", "--units", "30", "--repeat", "2", "--db", str(tmp_path / "e.db")],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=True,
    )
    result = json.loads(done.stdout)
    # Each measured page answered 200 (the script checks it) and was measured.
    assert result["units"] == 30
    assert sorted(result) == ["editor", "load_average", "unit_search", "units"]
    for page in (result["editor"], result["unit_search"]):
        assert page["bytes"] > 0 and page["queries"] > 0 and 0 < page["median_ms"] <= page["p90_ms"]
    assert result["unit_search"]["url"] == "/units/?q=ecologie+lyon"


def test_the_form_renderers_are_measured_and_the_apps_writes_djangos_html(tmp_path):
    """benchmarks/form_renderers.py. Jinja2 is not a dependency: without it its row says so."""
    done = subprocess.run(
        [sys.executable, "benchmarks/form_renderers.py", "--repeat", "2", "--db", str(tmp_path / "f.db")],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=True,
    )
    result = json.loads(done.stdout)
    assert result["fields"] > 10
    assert result["jinja2"] == "not installed" or result["jinja2"]["median_ms"] > 0
    for name in ("django", "iea"):
        assert result[name]["same_html_as_django"] is True and 0 < result[name]["median_ms"] <= result[name]["p90_ms"]
