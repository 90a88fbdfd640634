"""The API's first resources: calls (public), institutes (public) and units (signed-in), its schema, its
error format, pagination and throttling."""

import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from calls.models import CallState
from tests.factories import CallFactory, InstituteFactory, UnitFactory, UserFactory

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def api():
    return APIClient(HTTP_ACCEPT_LANGUAGE="en")


def test_the_schema_is_valid_openapi_with_no_warning():
    result = subprocess.run(
        [sys.executable, "manage.py", "spectacular", "--validate", "--fail-on-warn", "--file", "/dev/null"],
        cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Warning" not in result.stderr and "Error" not in result.stderr, result.stderr


def test_the_schema_is_served(api):
    response = api.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    assert "/api/v1/calls/" in response.json()["paths"]


def test_anyone_reads_the_published_calls_never_a_draft(api):
    CallFactory(year=2040, state=CallState.OPEN)
    CallFactory(year=2041, state=CallState.DRAFT)
    response = api.get("/api/v1/calls/")
    assert response.status_code == 200
    body = response.json()
    assert [c["year"] for c in body["results"]] == [2040]
    assert body["count"] == 1 and body["next"] is None
    call = body["results"][0]
    assert call["phase"] == "open"
    assert call["deadline"]
    assert api.get("/api/v1/calls/2041/").status_code == 404
    assert api.get("/api/v1/calls/2040/").json()["year"] == 2040


def test_an_unknown_call_is_a_404_in_the_one_error_format(api):
    response = api.get("/api/v1/calls/1999/")
    assert response.status_code == 404
    assert response.json() == {"error": {"status": 404, "code": "not_found", "message": "Not found."}}


def test_the_error_message_is_in_the_requests_language():
    response = APIClient(HTTP_ACCEPT_LANGUAGE="fr").get("/api/v1/units/")
    assert response.status_code == 401
    error = response.json()["error"]
    assert error["code"] == "not_authenticated"
    assert "authentification" in error["message"].lower()


def test_units_are_for_signed_in_users_and_found_by_code(api):
    unit = UnitFactory()
    UnitFactory()
    assert api.get("/api/v1/units/").status_code == 401
    api.force_authenticate(UserFactory())
    body = api.get("/api/v1/units/").json()
    assert body["count"] == 2
    assert "managers" not in body["results"][0]
    found = api.get("/api/v1/units/", {"code": unit.code.lower().replace(" ", "")}).json()
    assert [u["id"] for u in found["results"]] == [unit.pk]


def test_institutes_are_public(api):
    InstituteFactory(code="INEE")
    assert "INEE" in [i["code"] for i in api.get("/api/v1/institutes/").json()["results"]]


def test_writes_are_refused_on_read_only_resources(api):
    api.force_authenticate(UserFactory())
    response = api.post("/api/v1/calls/", {}, format="json")
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"


def test_lists_are_paginated_with_a_bounded_page_size(api):
    for year in range(2040, 2045):
        CallFactory(year=year)
    body = api.get("/api/v1/calls/", {"page_size": 2}).json()
    assert (body["count"], len(body["results"])) == (5, 2)
    assert body["next"].endswith("page=2&page_size=2")
    assert len(api.get("/api/v1/calls/", {"page_size": 10_000}).json()["results"]) == 5


def test_anonymous_reads_are_throttled(api, monkeypatch):
    from django.core.cache import cache
    from rest_framework.throttling import SimpleRateThrottle

    cache.clear()
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {"user": "600/minute", "anon": "2/minute"})
    try:
        assert [api.get("/api/v1/institutes/").status_code for _ in range(3)] == [200, 200, 429]
        response = api.get("/api/v1/institutes/")
        assert response.json()["error"]["code"] == "throttled"
        assert "Retry-After" in response
    finally:
        cache.clear()


@pytest.mark.parametrize("size", [3, 30])
def test_list_queries_do_not_grow(api, size, django_assert_num_queries):
    for year in range(2040, 2040 + size):
        CallFactory(year=year)
    for _ in range(size):
        UnitFactory()
    user = UserFactory()
    api.force_authenticate(user)
    with CaptureQueriesContext(connection) as calls:
        assert api.get("/api/v1/calls/").status_code == 200
    with CaptureQueriesContext(connection) as units:
        assert api.get("/api/v1/units/").status_code == 200
    assert (len(calls), len(units)) == (2, 2)  # the count, the page
