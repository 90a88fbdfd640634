"""The benchmark harness cannot rot: the dataset builder and the page benchmark run here at a tiny scale, on
the test database (SQLite or PostgreSQL), and every page must answer 200 with a query count that does not
grow from the 10-item subject to the larger one."""

import datetime as dt
import json
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from benchmarks import dataset, pages, run
from reviews.models import PanelFigures, Review

pytestmark = pytest.mark.django_db(transaction=False)

NOW = timezone.make_aware(dt.datetime(2027, 11, 15, 10, 0))


@pytest.fixture
def built(settings, tmp_path):
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    settings.ROOT_URLCONF = "benchmarks.bench_urls"  # as pages.setup(): the bare views beside the app
    return dataset.build(scale=0.004, now=NOW, log=lambda *a: None)


def test_the_dataset_has_every_table_the_pages_read(built):
    counts = built["counts"]
    assert counts["calls"] == 12
    assert counts["awards"] >= 9
    assert counts["tranches"] == 2 * counts["awards"]
    assert {key for key, value in counts.items() if value == 0} == set()
    s = dataset.subjects()
    assert (s["calls"]["small"].proposals.count(), s["calls"]["large"].year) == (10, 2027)
    # The panel call: one panel, every proposal with 3 submitted reviews, its figures kept.
    panel = s["large_panel"]
    proposals = panel.call.proposals.count()
    assert (proposals, panel.officers.get(), panel.call.year) == (20, s["panel_officer"], 2027 - 11)
    assert Review.objects.filter(proposal__call=panel.call, state="submitted").count() == 3 * proposals
    assert PanelFigures.objects.filter(panel=panel).count() == proposals


def test_every_page_answers_with_a_constant_number_of_queries(built):
    result = pages.run(runs=2, repeat=1, log=lambda *a: None)
    # Timing targets are for the full size on the benchmark machine, not for a test run.
    assert [problem for problem in result["problems"] if "p95" not in problem and "floor" not in problem] == []
    # The panel table of the panel call, its query count at 10 and 20 proposals, and against its two floors.
    measured = {m["name"]: m for m in result["pages"]}["panel table (the panel call's 5,000)"]
    assert (measured["status_small"], measured["status_large"]) == (200, 200)
    floors = result["panel_floor"]["pages"]
    assert [page["status"] for page in floors.values()] == [200] * 6
    assert {name: page["bytes"] > 2000 for name, page in floors.items() if name.startswith("floor")} == {
        "floor: one aggregate query (figures from the scores)": True, "floor: one query (figures as kept)": True}
    assert len(result["pages"]) > 60
    section = pages.markdown(result)
    assert section.startswith("## ")
    assert "### The panel table at 20 proposals against its floors" in section
    json.dumps(result, default=str)


def test_the_header_names_the_machine_and_the_versions():
    text = run.header(started=timezone.now(), command="make bench", database_url=dataset.DEFAULT_DATABASE_URL,
                      scale=1, results={"_seconds": 1, **{name: {"status": None, "seconds": 0} for name in run.SCRIPTS}})
    assert "cores" in text and "Django" in text and "`make bench`" in text


def test_the_floors_serve_the_panel_tables_first_page(built, client):
    """The same rows as the officer's first page: in the same order from the kept figures, the same proposals
    from the aggregate (whose totals, summed in floating point, may order exact ties otherwise)."""
    s = dataset.subjects()
    panel = s["large_panel"]
    client.force_login(s["panel_officer"])
    pages.ensure_mfa(s)

    def references(url):
        response = client.get(url, secure=True)
        assert response.status_code == 200
        return re.findall(r"IEA\d\d-B\d{6}", response.content.decode())

    shown = list(dict.fromkeys(references(reverse("panel:table", args=[panel.pk]))))
    assert len(shown) == panel.call.proposals.count()
    assert references(f"/bench/bare/panel/{panel.pk}/kept/") == shown
    assert sorted(references(f"/bench/bare/panel/{panel.pk}/aggregate/")) == sorted(shown)


def test_the_past_calls_can_hold_ten_years_of_a_full_call():
    assert dataset.sizes(1)["past_proposals"] == 370
    assert dataset.sizes(1, 5000)["past_proposals"] == 5000
    assert dataset.sizes(0.01, 5000)["past_proposals"] == 50
    # --keep reuses a dataset only at the same scale and size of the past calls.
    assert dataset.dataset_marker(1.0) == "1.0"
    assert dataset.dataset_marker(1.0, 5000) == "1.0 past=5000"
