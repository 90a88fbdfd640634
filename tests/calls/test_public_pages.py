"""The public pages: list of calls and a call's page, in French and English, with the deadline in Paris time."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone

from calls.models import CallState, InstitutePriority
from tests.factories import CallFactory, InstituteFactory

pytestmark = pytest.mark.django_db
PARIS = ZoneInfo("Europe/Paris")


def test_draft_calls_are_not_public(client):
    draft = CallFactory(state=CallState.DRAFT)
    assert client.get(reverse("calls:detail", args=[draft.year])).status_code == 404
    assert draft.title.encode() not in client.get(reverse("calls:list")).content


def test_call_page_shows_the_deadline_in_paris_time_with_time_left(client):
    closes = dt.datetime(2099, 9, 30, 13, 0, tzinfo=PARIS)
    call = CallFactory(closes_at=closes, excluded_countries=["RU"])
    InstitutePriority.objects.create(call=call, institute=InstituteFactory(code="INSU", usage_name="CNRS Terre & Univers"),
                                     themes_en="Polar science", priority_countries=["NO"])
    body = client.get(reverse("calls:detail", args=[call.year])).content.decode()
    assert "30\N{NO-BREAK SPACE}September 2099, 13:00" in body
    assert 'data-deadline="2099-09-30T11:00:00+00:00"' in body
    assert "Polar science" in body and "Norway" in body and "Russia" in body
    assert "Scientific quality of the project" in body


def test_call_page_in_french(client):
    call = CallFactory(title_fr="AAP IEA 2099", title_en="IEA 2099 call")
    body = client.get(reverse("calls:detail", args=[call.year]), HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "AAP IEA 2099" in body and "Qualité scientifique du projet" in body
    body = client.get(reverse("calls:detail", args=[call.year]), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "IEA 2099 call" in body


def test_closed_call_offers_no_start_button(client, pi):
    call = CallFactory(closes_at=timezone.now() - dt.timedelta(minutes=1), opens_at=timezone.now() - dt.timedelta(days=9))
    client.force_login(pi)
    body = client.get(reverse("calls:detail", args=[call.year])).content.decode()
    assert f"/proposals/new/{call.year}/" not in body


def test_call_list_query_count_does_not_grow(client, queries):
    assert queries.at_sizes(CallFactory.create_batch, lambda: client.get(reverse("calls:list")),
                            sizes=(1, 10)) == (1, 1)


def test_call_detail_query_count_does_not_grow_with_priorities(client, queries):
    call = CallFactory()

    def prioritise(n):
        for _ in range(n):
            InstitutePriority.objects.create(call=call, institute=InstituteFactory())

    assert queries.at_sizes(prioritise, lambda: client.get(reverse("calls:detail", args=[call.year])),
                            sizes=(1, 6)) == (3, 3)


def test_home_page_query_count_does_not_grow(client, pi, queries):
    client.force_login(pi)
    assert queries.at_sizes(CallFactory.create_batch, lambda: client.get("/"), sizes=(1, 9)) == (4, 4)


def test_the_open_call_comes_before_next_years_published_call(client):
    # IEA 2027 open (9 days left) and IEA 2028 published: the home page features 2027, the list reads open,
    # upcoming, past (it featured "IEA 2028 — upcoming").
    now = timezone.now()
    past = CallFactory(year=2026, title_en="IEA 2026", opens_at=now - dt.timedelta(days=400),
                       closes_at=now - dt.timedelta(days=300))
    open_call = CallFactory(year=2027, title_en="IEA 2027", opens_at=now - dt.timedelta(days=30),
                            closes_at=now + dt.timedelta(days=9))
    upcoming = CallFactory(year=2028, title_en="IEA 2028", state=CallState.PUBLISHED,
                           opens_at=now + dt.timedelta(days=200), closes_at=now + dt.timedelta(days=300))
    home = client.get(reverse("home"))
    assert home.context["current"] == open_call
    assert [c.year for c in client.get(reverse("calls:list")).context["calls"]] == [
        open_call.year, upcoming.year, past.year]
