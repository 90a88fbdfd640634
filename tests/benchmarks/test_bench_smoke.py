"""The benchmark harness cannot rot: the dataset builder and the page benchmark run here at a tiny scale, on
the test database (SQLite or PostgreSQL), and every page must answer 200 with a query count that does not
grow from the 10-item subject to the larger one."""

import datetime as dt
import json

import pytest
from django.utils import timezone

from benchmarks import dataset, pages, run

pytestmark = pytest.mark.django_db(transaction=False)

NOW = timezone.make_aware(dt.datetime(2027, 11, 15, 10, 0))


@pytest.fixture
def built(settings, tmp_path):
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    return dataset.build(scale=0.004, now=NOW, log=lambda *a: None)


def test_the_dataset_has_every_table_the_pages_read(built):
    counts = built["counts"]
    assert counts["calls"] == 11
    assert counts["awards"] >= 9
    assert counts["tranches"] == 2 * counts["awards"]
    assert {key for key, value in counts.items() if value == 0} == set()
    s = dataset.subjects()
    assert (s["calls"]["small"].proposals.count(), s["calls"]["large"].year) == (10, 2027)


def test_every_page_answers_with_a_constant_number_of_queries(built):
    result = pages.run(runs=2, repeat=1, log=lambda *a: None)
    # Timing targets are for the full size on the benchmark machine, not for a test run.
    assert [problem for problem in result["problems"] if "p95" not in problem] == []
    assert len(result["pages"]) > 60
    section = pages.markdown(result)
    assert section.startswith("## ")
    json.dumps(result, default=str)


def test_the_header_names_the_machine_and_the_versions():
    text = run.header(started=timezone.now(), command="make bench", database_url=dataset.DEFAULT_DATABASE_URL,
                      scale=1, results={"_seconds": 1, **{name: {"status": None, "seconds": 0} for name in run.SCRIPTS}})
    assert "cores" in text and "Django" in text and "`make bench`" in text
