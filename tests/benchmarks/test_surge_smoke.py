"""The benchmarks of issue #8 at a tiny scale, so that they cannot rot: each script runs end to end as the
driver runs it (``--out``, ``BENCH_DATABASE_URL``), in a database of its own, and writes its two files.

Their targets are not asserted here (a handful of PIs on a busy CI machine says nothing about throughput):
only that nothing was lost, nothing failed, and the reports are complete.
"""

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.db import connection

BASE_DIR = Path(__file__).resolve().parent.parent.parent

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


@pytest.fixture
def bench_database_url():
    """A database name of the test's own on the test PostgreSQL server (the script creates and drops it)."""
    if connection.vendor != "postgresql":
        message = f"needs PostgreSQL, the database is {connection.vendor}"
        if os.environ.get("REQUIRE_POSTGRES") == "1":
            pytest.fail(f"REQUIRE_POSTGRES=1 but {message}: set DATABASE_URL=postgres://…", pytrace=False)
        pytest.skip(message)
    import redis

    try:
        redis.Redis.from_url("redis://127.0.0.1:6379/9", socket_connect_timeout=2).ping()
    except redis.exceptions.ConnectionError as error:
        if os.environ.get("REQUIRE_REDIS") == "1":
            pytest.fail(f"Redis is required (REQUIRE_REDIS=1) but does not answer: {error}")
        pytest.skip("needs Redis at 127.0.0.1:6379")
    parts = urlsplit(os.environ["DATABASE_URL"])
    return urlunsplit((parts.scheme, parts.netloc, f"/bench_smoke_{uuid.uuid4().hex[:10]}", "", ""))


def run(script: str, out: Path, url: str, *args: str) -> tuple[int, dict, str]:
    env = {**os.environ, "BENCH_DATABASE_URL": url}
    result = subprocess.run([sys.executable, f"benchmarks/{script}.py", "--out", str(out), *args],  # noqa: S603
                            cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode in (0, 1), result.stderr[-3000:]  # 1: a target missed, files written
    numbers = json.loads((out / f"{script}.json").read_text())
    markdown = (out / f"{script}.md").read_text()
    assert markdown.startswith("## ")
    assert f"benchmarks/{script}.py" in markdown  # the command to reproduce it
    return result.returncode, numbers, markdown


def database_exists(url: str) -> bool:
    from benchmarks import _bench

    with _bench._admin_connection(url) as admin:
        return admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [_bench.database_name(url)]).fetchone() is not None


def test_the_surge_submits_every_journey_and_loses_none(bench_database_url, tmp_path):
    _code, numbers, markdown = run("surge", tmp_path, bench_database_url, "--pis", "3", "--rounds", "1", "--time-limit", "120")

    for path in ("app", "bare"):
        run_numbers = numbers[path]
        assert (run_numbers["told_submitted"], run_numbers["errors"], run_numbers["lost"], run_numbers["phantom"],
                run_numbers["versions_in_db"]) == (3, 0, 0, 0, 3), run_numbers["error_samples"]
        assert run_numbers["requests"] == 15
    assert numbers["celery"]["states"] == {"sent": 6}  # each receipt to the PI and to the partner
    assert 0 < numbers["web_worker_peak_mb"] < 1000
    assert "| app | 3/3 | 0 | 0 | 0 |" in markdown
    assert not database_exists(bench_database_url)


def test_the_pdfs_are_rendered_both_ways(bench_database_url, tmp_path):
    _code, numbers, markdown = run("pdfs", tmp_path, bench_database_url, "--count", "4")

    assert [(numbers[kind]["documents"], numbers[kind]["measured"]) for kind in ("receipt", "evaluation_summary")] == [
        (4, 1), (4, 1)]
    assert all(numbers[kind]["app_ms"] > 0 and numbers[kind]["plain_ms"] > 0 for kind in ("receipt", "evaluation_summary"))
    assert "| submission receipt |" in markdown
    assert not database_exists(bench_database_url)


def test_the_reminders_reach_the_sink_by_every_path(bench_database_url, tmp_path):
    _code, numbers, markdown = run("reminders_celery", tmp_path, bench_database_url, "--count", "20", "--time-limit", "120")

    assert [numbers[path]["received"] for path in ("django", "outbox", "celery")] == [20, 20, 20]
    assert numbers["celery"]["sent"] == 20
    assert numbers["celery"]["worker_main_peak_mb"] > 0
    assert "Celery worker peak RSS" in markdown
    assert not database_exists(bench_database_url)
