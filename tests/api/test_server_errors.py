"""A bug under /api/ (in a view, or in a middleware outside DRF) answers 500 in the API's one JSON error
format, never Django's HTML page and never the exception's text; the exception is logged once, with its
traceback and the request id. A page outside the API keeps the HTML 500 page."""

import pytest
from django.test import Client

from calls.api import CallViewSet

SECRET = "boom: pi@example.org token=abc123"  # what an exception's text may hold: it never reaches the client


class RaisingMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        raise RuntimeError(SECRET)


def raise_bug(*args, **kwargs):
    raise RuntimeError(SECRET)


@pytest.fixture
def production(settings):
    settings.DEBUG = False
    settings.DEBUG_PROPAGATE_EXCEPTIONS = False
    return Client(raise_request_exception=False, HTTP_ACCEPT_LANGUAGE="en")


def assert_json_500(response, log_output):
    request_id = response.headers["X-Request-ID"]
    assert (response.status_code, response.headers["Content-Type"]) == (500, "application/json")
    assert response.json() == {"error": {
        "status": 500, "code": "server_error",
        "message": f"An unexpected error occurred on the server. If it persists, report request {request_id}."}}
    assert SECRET not in response.content.decode()
    lines, _text = log_output()
    errors = [line for line in lines if line["level"] == "ERROR"]
    assert [(e["logger"], e["request_id"], e["status_code"]) for e in errors] == [("django.request", request_id, 500)]
    assert "Traceback" in errors[0]["exc_info"] and SECRET in errors[0]["exc_info"]


@pytest.mark.django_db
def test_a_bug_in_an_api_view_answers_the_json_error(production, monkeypatch, log_output):
    monkeypatch.setattr(CallViewSet, "list", raise_bug)
    assert_json_500(production.get("/api/v1/calls/"), log_output)


@pytest.mark.django_db
def test_a_bug_in_a_middleware_under_the_api_answers_the_json_error(production, settings, log_output):
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, f"{__name__}.RaisingMiddleware"]
    assert_json_500(production.get("/api/v1/calls/"), log_output)


@pytest.mark.django_db
def test_the_json_error_is_in_the_requests_language(production, monkeypatch):
    monkeypatch.setattr(CallViewSet, "list", raise_bug)
    response = production.get("/api/v1/calls/", HTTP_ACCEPT_LANGUAGE="fr")
    assert response.json()["error"]["message"] == (
        f"Une erreur inattendue s'est produite sur le serveur. Si elle persiste, signalez la requête "
        f"{response.headers['X-Request-ID']}.")


@pytest.mark.django_db
def test_a_page_outside_the_api_keeps_the_html_500_page(production, settings):
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, f"{__name__}.RaisingMiddleware"]
    response = production.get("/dashboard/")
    assert (response.status_code, response.headers["Content-Type"]) == (500, "text/html; charset=utf-8")
    assert b"Server Error (500)" in response.content and SECRET.encode() not in response.content


@pytest.mark.django_db
def test_errors_raised_before_any_api_view_answer_in_the_error_format_too(production, settings):
    settings.ALLOWED_HOSTS = ["testserver"]
    unknown = production.get("/api/v1/no-such-resource/")
    bad_host = production.get("/api/v1/calls/", HTTP_HOST="attacker.example")
    assert (unknown.status_code, unknown.headers["Content-Type"]) == (404, "application/json")
    assert unknown.json() == {"error": {"status": 404, "code": "not_found", "message": "Not found."}}
    assert (bad_host.status_code, bad_host.headers["Content-Type"]) == (400, "application/json")
    assert bad_host.json()["error"]["code"] == "bad_request"
    french = production.get("/api/v1/no-such-resource/", HTTP_ACCEPT_LANGUAGE="fr")
    assert french.json()["error"]["message"] == "Introuvable."
    page = production.get("/no-such-page/")
    assert page.status_code == 404 and page.headers["Content-Type"].startswith("text/html")
