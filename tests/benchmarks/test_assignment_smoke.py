"""The automatic assignment's benchmark at a tiny scale, so that it cannot rot: its data, the job run as a worker
runs it, the checks it makes in the database and its report — in-process on the test database (SQLite or
PostgreSQL); then, on PostgreSQL, the script itself as ``make bench`` runs it, with a real Celery worker on the
filesystem broker (the way ``make run`` works without Redis). The 30-second target is for scale 1 on the
benchmark machine: not asserted here."""

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.utils import timezone

from benchmarks import assignment

BASE_DIR = Path(__file__).resolve().parent.parent.parent


@pytest.mark.django_db
def test_the_job_assigns_a_small_panel_and_the_report_says_so():
    data = assignment.build(scale=0.01, now=timezone.now())
    assert (data["proposals"], data["reviewers"], data["reviews_per_proposal"]) == (50, 10, 3)

    run = assignment.run_in_process(data, now=timezone.now())

    assert (run["job_state"], run["conflicted_pairs"]) == ("done", 0)
    assert run["conflicts_stored"] > 0  # the data makes conflicts, and the job recorded them
    assert run["max_load"] <= run["cap"]
    assert run["proposals_full"] + run["uncovered_reported"] == data["proposals"]
    assert run["assignments"] == 3 * data["proposals"] - sum(item["missing"] for item in run["result"]["uncovered"])
    result = {"data": data, "run": run, "solver": assignment.solver_beside_networkx(proposals=20, reviewers=5)}
    result["problems"] = assignment.problems(result, scale=0.01)
    assert result["problems"] == []
    text = assignment.markdown(result, scale=0.01)
    assert text.startswith("## Automatic assignment: 50 proposals × 10 reviewers × 3 reviews")
    assert "| assignments on a conflicted pair (from the database) | 0 |" in text
    assert "same flow and cost." in text


@pytest.fixture
def own_database_url(require_postgres):
    """A database name of the test's own on the test PostgreSQL server (the script creates and drops it)."""
    parts = urlsplit(os.environ["DATABASE_URL"])
    return urlunsplit((parts.scheme, parts.netloc, f"/bench_smoke_{uuid.uuid4().hex[:10]}", "", ""))


@pytest.mark.postgres
def test_the_script_runs_the_job_through_a_celery_worker_on_the_filesystem_broker(own_database_url, tmp_path):
    result = subprocess.run(  # noqa: S603
        [sys.executable, "benchmarks/assignment.py", "--out", str(tmp_path), "--scale", "0.01"],
        cwd=BASE_DIR, env={**os.environ, "BENCH_DATABASE_URL": own_database_url}, capture_output=True, text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    numbers = json.loads((tmp_path / "assignment.json").read_text())
    assert (numbers["run"]["job_state"], numbers["run"]["conflicted_pairs"], numbers["problems"]) == ("done", 0, [])
    assert numbers["run"]["assignments"] > 0
    markdown = (tmp_path / "assignment.md").read_text()
    assert markdown.startswith("## ") and "benchmarks/assignment.py" in markdown
