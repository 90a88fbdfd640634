"""Structured logs: the JSON line, the request id (given, replaced, made; echoed; carried into Celery
tasks), the user id, and each security event logged once without any secret in the line."""

import datetime as dt
import logging
import re
from types import SimpleNamespace

import pytest
from celery.app.task import Context
from celery.signals import before_task_publish, task_postrun, task_prerun
from django.contrib.auth.models import AnonymousUser
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import SimpleLazyObject

from iea.accounts.domain import api_token_create
from iea.accounts.security_log import email_digest
from iea.gunicorn import Logger as GunicornLogger
from iea.logging import RequestIdMiddleware, current_request_id, path_without_secrets
from proposals import domain
from proposals.letters import check_pdf
from tests.api.conftest import client_for
from tests.factories import PASSWORD, UserFactory
from tests.pdfs import pdf_upload

GENERATED = re.compile(r"[0-9a-f]{32}")


def events(lines, name):
    return [line for line in lines if line.get("event") == name]


def through_middleware(request, work=lambda: None, status=200):
    from django.http import HttpResponse

    def view(request):
        work()
        return HttpResponse(status=status)

    return RequestIdMiddleware(view)(request)


def test_a_line_is_one_json_object_with_the_fields_an_operator_filters_on(log_output):
    request = RequestFactory().get("/", HTTP_X_REQUEST_ID="req-42")
    request.user = AnonymousUser()

    through_middleware(request, lambda: logging.getLogger("iea.test").warning("disk at %s%%", 91, extra={"event": "x"}))

    lines, text = log_output()
    assert len(text.splitlines()) == 1
    line = lines[0]
    assert list(line)[:6] == ["time", "level", "logger", "message", "request_id", "user_id"]
    assert (line["level"], line["logger"], line["message"], line["request_id"], line["user_id"], line["event"]) == (
        "WARNING", "iea.test", "disk at 91%", "req-42", None, "x")
    moment = dt.datetime.fromisoformat(line["time"])
    assert moment.utcoffset() == dt.timedelta(0)
    assert abs(timezone.now() - moment) < dt.timedelta(minutes=1)


def test_an_exception_stays_on_one_line(log_output):
    try:
        raise ValueError("boom")
    except ValueError:
        logging.getLogger("iea.test").exception("failed")
    lines, text = log_output()
    assert len(text.splitlines()) == 1
    assert lines[0]["exc_info"].endswith("ValueError: boom")


@pytest.mark.django_db
def test_the_proxys_request_id_is_kept_and_echoed(client, log_output):
    response = client.get("/no-such-page/", HTTP_X_REQUEST_ID="nginx.3f2a-9B_c")

    assert response.status_code == 404
    assert response["X-Request-ID"] == "nginx.3f2a-9B_c"
    lines, _text = log_output()
    assert [(line["logger"], line["request_id"]) for line in lines] == [("django.request", "nginx.3f2a-9B_c")]


@pytest.mark.django_db
@pytest.mark.parametrize("given", ["has space", "x" * 65, "semi;colon", "ünï", ""])
def test_a_request_id_that_is_not_sane_is_replaced(client, given):
    response = client.get("/", HTTP_X_REQUEST_ID=given)
    assert GENERATED.fullmatch(response["X-Request-ID"])


@pytest.mark.django_db
def test_without_a_header_each_request_gets_its_own_id(client):
    first, second = client.get("/")["X-Request-ID"], client.get("/")["X-Request-ID"]
    assert GENERATED.fullmatch(first) and GENERATED.fullmatch(second) and first != second
    assert current_request_id() is None  # the id does not outlive its request


@pytest.mark.django_db
def test_the_signed_in_users_id_is_on_the_line(pi, log_output):
    request = RequestFactory().get("/")
    request.user = pi
    through_middleware(request, lambda: logging.getLogger("iea.test").info("hello"))
    assert [line["user_id"] for line in log_output()[0]] == [pi.pk]


@pytest.mark.django_db
def test_logging_never_loads_the_user_just_to_log(pi, log_output, django_assert_num_queries):
    request = RequestFactory().get("/")
    request.user = SimpleLazyObject(lambda: pi)  # as AuthenticationMiddleware leaves it, not yet read
    with django_assert_num_queries(0):
        through_middleware(request, lambda: logging.getLogger("iea.test").info("hello"))
    assert [line["user_id"] for line in log_output()[0]] == [None]


@pytest.mark.django_db
def test_a_refused_page_is_logged_once_with_the_user(client, pi, log_output):
    client.force_login(pi)

    response = client.get("/admin/login/", HTTP_X_REQUEST_ID="r1")  # a PI is not staff: PermissionDenied

    assert response.status_code == 403
    refused = events(log_output()[0], "access.refused")
    assert [(r["status"], r["method"], r["path"], r["view"], r["user_id"], r["request_id"], r["level"])
            for r in refused] == [(403, "GET", "/admin/login/", "admin_login", pi.pk, "r1", "WARNING")]


@pytest.mark.django_db
def test_an_invitation_token_never_reaches_the_log(client, log_output):
    token = "Secr3tInvitationTokenXYZ"

    response = client.get(reverse("proposals:partner", args=[token]))

    assert response.status_code == 403
    lines, text = log_output()
    assert [r["path"] for r in events(lines, "access.refused")] == ["/proposals/partner/…/"]
    assert [line["message"] for line in lines if line["logger"] == "django.request"] == [
        "Forbidden: /proposals/partner/…/"]
    assert token not in text


@pytest.mark.django_db
def test_an_unknown_api_token_is_logged_once_as_a_401_without_the_token(client, log_output):
    secret = "iea_NotARealTokenButLooksLikeOne0123456789"

    response = client.get("/api/v1/calls/", HTTP_AUTHORIZATION=f"Bearer {secret}")

    assert response.status_code == 401
    lines, text = log_output()
    assert [(r["status"], r["user_id"]) for r in events(lines, "access.refused")] == [(401, None)]
    assert secret not in text and "Bearer" not in text


@pytest.mark.django_db
def test_a_read_only_token_writing_is_logged_once_as_a_403_with_its_user(client, pi, draft, log_output):
    _token, secret = api_token_create(user=pi, name="ro", scopes="read", days=30,
                                      now=timezone.now() - dt.timedelta(minutes=1))

    response = client.post(f"/api/v1/proposals/{draft.reference}/submit/", HTTP_AUTHORIZATION=f"Bearer {secret}")

    assert response.status_code == 403
    lines, text = log_output()
    assert [(r["status"], r["method"], r["user_id"]) for r in events(lines, "access.refused")] == [(403, "POST", pi.pk)]
    assert secret not in text


@pytest.mark.django_db
def test_a_sign_in_is_logged_once_without_password_or_session(client, log_output):
    user = UserFactory(email="paula@cnrs.example.fr")

    response = client.post(reverse("account_login"), {"login": "paula@cnrs.example.fr", "password": PASSWORD})

    assert response.status_code == 302
    lines, text = log_output()
    assert [(r["level"], r["logger"], r["user_id"]) for r in events(lines, "login.success")] == [
        ("INFO", "iea.security", user.pk)]
    assert events(lines, "login.failed") == []
    assert PASSWORD not in text
    assert client.session.session_key not in text
    assert client.cookies["csrftoken"].value not in text


@pytest.mark.django_db
def test_a_failed_sign_in_is_logged_once_with_the_address_hashed(client, log_output):
    UserFactory(email="paula@cnrs.example.fr")

    response = client.post(reverse("account_login"), {"login": "Paula@CNRS.example.fr", "password": "wrong-guess-123"})

    assert response.status_code == 200
    lines, text = log_output()
    failed = events(lines, "login.failed")
    assert [(r["level"], r["user_id"], r["email_hash"]) for r in failed] == [
        ("WARNING", None, email_digest("paula@cnrs.example.fr"))]
    assert re.fullmatch(r"[0-9a-f]{16}", failed[0]["email_hash"])
    assert "wrong-guess-123" not in text
    assert "paula" not in text.lower()


@pytest.mark.django_db
def test_a_sign_out_is_logged_once_without_the_session(client, pi, log_output):
    client.force_login(pi)
    session_key = client.session.session_key

    response = client.post(reverse("account_logout"))

    assert response.status_code == 302
    lines, text = log_output()
    assert [(r["level"], r["user_id"]) for r in events(lines, "logout")] == [("INFO", pi.pk)]
    assert session_key not in text


def close_the_call(draft, pi):
    domain.letter_attach(proposal_id=draft.pk, pdf=check_pdf(pdf_upload()), now=timezone.now(), user=pi)
    draft.call.closes_at = timezone.now() - dt.timedelta(seconds=1)
    draft.call.save()


@pytest.mark.django_db
def test_a_late_submission_on_the_web_is_refused_and_logged_once(client, draft, pi, log_output):
    close_the_call(draft, pi)
    client.force_login(pi)

    client.post(reverse("proposals:submit", args=[draft.pk]), HTTP_X_REQUEST_ID="late-1")

    assert draft.versions.count() == 0
    late = events(log_output()[0], "proposal.submit_late")
    assert [(r["level"], r["logger"], r["proposal"], r["call_id"], r["user_id"], r["request_id"]) for r in late] == [
        ("WARNING", "iea.proposals", draft.reference, draft.call_id, pi.pk, "late-1")]
    assert dt.datetime.fromisoformat(late[0]["deadline"]) < dt.datetime.fromisoformat(late[0]["attempted_at"])


@pytest.mark.django_db
def test_a_late_submission_through_the_api_is_refused_and_logged_once(draft, pi, log_output):
    close_the_call(draft, pi)

    response = client_for(pi).post(f"/api/v1/proposals/{draft.reference}/submit/")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "closed"
    assert [r["proposal"] for r in events(log_output()[0], "proposal.submit_late")] == [draft.reference]


@pytest.mark.django_db
def test_a_refusal_for_another_reason_is_not_a_late_submission(client, draft, pi, log_output):
    client.force_login(pi)
    client.post(reverse("proposals:submit", args=[draft.pk]))  # no letter yet: ineligible, not late
    assert events(log_output()[0], "proposal.submit_late") == []


class FakeTask:
    def __init__(self, headers: dict):
        self.request = Context(headers)


def run_task(headers: dict, task_id="task-7"):
    """What the worker does around a task, with the message's headers; gives the request id inside."""
    task = FakeTask(headers)
    task_prerun.send(sender=task, task_id=task_id, task=task, args=(), kwargs={})
    inside = current_request_id()
    task_postrun.send(sender=task, task_id=task_id, task=task, args=(), kwargs={})
    return inside


def test_a_task_carries_the_id_of_the_request_that_queued_it():
    request = RequestFactory().get("/", HTTP_X_REQUEST_ID="queued-by-me")
    request.user = AnonymousUser()
    headers = {}
    through_middleware(request, lambda: before_task_publish.send(sender="t", headers=headers, body=()))

    assert headers == {"iea_request_id": "queued-by-me"}
    assert run_task(headers) == "queued-by-me"
    assert current_request_id() is None


def test_a_task_queued_outside_a_request_logs_with_its_own_id():
    headers = {}
    before_task_publish.send(sender="t", headers=headers, body=())
    assert headers == {}
    assert run_task(headers, task_id="c0ffee") == "c0ffee"
    assert run_task({"iea_request_id": "bad id!"}, task_id="c0ffee") == "c0ffee"


def test_a_task_run_eagerly_inside_a_request_keeps_the_requests_id():
    request = RequestFactory().get("/", HTTP_X_REQUEST_ID="eager-1")
    request.user = AnonymousUser()
    seen = []
    through_middleware(request, lambda: seen.append(run_task({})))
    assert seen == ["eager-1"]


def test_a_path_no_request_resolved_loses_its_secret_too():
    assert path_without_secrets("/proposals/partner/abc123/") == "/proposals/partner/…/"
    assert path_without_secrets("/nothing/here/abc123/") == "/nothing/here/abc123/"


def test_gunicorns_line_for_an_answer_django_did_not_give_masks_the_path(caplog, settings):
    """The middleware leaves the path and the user for the access line; without them (an answer from
    outside Django) the line resolves the path itself. The client is the forwarded address, since the
    request comes from a trusted proxy."""
    settings.TRUSTED_PROXIES = ["10.0.0.0/24"]
    logger = GunicornLogger.__new__(GunicornLogger)  # no gunicorn configuration: only the line's content
    logger.access_log = logging.getLogger("iea.test.access")
    response = SimpleNamespace(status="502 Bad Gateway", headers=[("X-Request-ID", "req-7")], sent=12)
    environ = {"REQUEST_METHOD": "POST", "PATH_INFO": "/proposals/partner/abc123/", "QUERY_STRING": "t=abc123",
               "REMOTE_ADDR": "10.0.0.2", "HTTP_X_FORWARDED_FOR": "192.0.2.4", "HTTP_USER_AGENT": "curl/8",
               "HTTP_REFERER": "https://iea.example.org/proposals/partner/abc123/"}

    with caplog.at_level(logging.INFO, logger="iea.test.access"):
        logger.access(response, None, environ, dt.timedelta(milliseconds=12.34))

    [record] = caplog.records
    assert record.getMessage() == "POST /proposals/partner/…/ 502 12 B 12.3 ms"
    assert {key: getattr(record, key) for key in (
        "event", "method", "path", "status", "bytes", "duration_ms", "remote_addr", "client_addr", "user_agent",
        "request_id", "user_id")} == {
        "event": "http.access", "method": "POST", "path": "/proposals/partner/…/", "status": 502, "bytes": 12,
        "duration_ms": 12.3, "remote_addr": "10.0.0.2", "client_addr": "192.0.2.4", "user_agent": "curl/8",
        "request_id": "req-7", "user_id": None}
    assert "abc123" not in str(record.__dict__)
