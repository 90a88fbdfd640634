"""Requests for information (#21), the directorate's side: asking (every refusal), cancelling, screening waiting
while one is open (the single action refuses, the bulk confirm skips and says so), the expiry recorded when first
noticed, the mails to the PI and the co-applicants, the screening page in a constant number of queries, and two
staff members asking at once."""

import datetime as dt

import pytest
from django.core import mail as django_mail
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone, translation

from iea.audit.models import AuditEntry
from proposals.models import CoApplicant, InformationRequest, InformationRequestState, Proposal, ProposalState
from proposals.reminders import information_request_reminders
from reviews.domain.information_requests import information_request_ask, information_request_cancel
from reviews.domain.screening import proposal_screen, screening_confirm_eligible, screening_rows
from tests.factories import UserFactory
from tests.proposals.test_concurrency import _file_connection, _using, run_together
from tests.proposals.test_concurrency import sqlite_file_copy as sqlite_file_copy  # the fixture, shared

from .staff_factories import closed_call, submitted_proposal

pytestmark = pytest.mark.django_db


@pytest.fixture
def past_call():
    return closed_call()


@pytest.fixture
def submitted(past_call, pi):
    return submitted_proposal(past_call, pi=pi)


def ask(proposal, user, *, items=("letter",), message="La lettre n'est pas signée.", now=None, deadline=None):
    now = now or timezone.now()
    return information_request_ask(proposal_id=proposal.pk, user=user, items=list(items), message=message,
                                   deadline=deadline or now + dt.timedelta(days=7), now=now)


# Asking --------------------------------------------------------------------------------------------------------


def test_asking_records_the_request_audits_it_and_mails_the_pi_and_the_coapplicants(
        submitted, pi, staff, django_capture_on_commit_callbacks):
    colleague = UserFactory(email="coapp@cnrs.example.fr", language="en", full_name="Colin Collègue")
    CoApplicant.objects.create(proposal=submitted, email=colleague.email, user=colleague, invited_by=pi,
                               invited_at=timezone.now(), accepted_at=timezone.now())
    now = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        request = ask(submitted, staff, items=["letter", "title"], now=now,
                      message="La lettre de l'Universidade de Brasília n'est pas signée.")
    assert (request.state, request.items, request.asked_by, request.asked_at) == (
        InformationRequestState.OPEN, ["letter", "title"], staff, now)
    entry = AuditEntry.objects.get(action="proposal.rfi_ask")
    assert (entry.actor, entry.reason, entry.data["items"]) == (
        staff, "La lettre de l'Universidade de Brasília n'est pas signée.", ["letter", "title"])
    sent = {message.to[0]: message for message in django_mail.outbox}
    assert set(sent) == {pi.email, colleague.email}
    english = sent[colleague.email]
    assert english.subject == f"Proposal {submitted.reference}: information requested"
    assert "You may change only: support letter, title" in english.body
    assert "Universidade de Brasília n'est pas signée." in english.body
    assert f"/proposals/{submitted.pk}/edit/" in english.body


def test_the_mail_in_french_names_the_items_in_french(submitted, pi, staff, django_capture_on_commit_callbacks):
    pi.language = "fr"
    pi.save(update_fields=["language"])
    with django_capture_on_commit_callbacks(execute=True):
        ask(submitted, staff, items=["budget", "partner_country"], message="Budget : 15 000 € > plafond.\n" + "x" * 3000)
    (message,) = django_mail.outbox
    assert message.subject == f"Dossier {submitted.reference}\u00a0: compléments demandés"
    assert "Vous ne pouvez modifier que\u00a0: budget, pays du partenaire" in message.body
    assert "Budget : 15 000 € > plafond." in message.body and "x" * 3000 in message.body


@pytest.mark.parametrize(("items", "message", "days", "code"), [
    ([], "Fix it", 7, "items"),
    (["nonsense"], "Fix it", 7, "items"),
    (["letter"], "   ", 7, "message"),
    (["letter"], "Fix it", 0, "deadline"),
    (["letter"], "Fix it", -1, "deadline"),
])
def test_a_bad_request_is_refused(submitted, staff, items, message, days, code):
    now = timezone.now()
    with pytest.raises(ValidationError) as refused:
        information_request_ask(proposal_id=submitted.pk, user=staff, items=items, message=message,
                                deadline=now + dt.timedelta(days=days), now=now)
    assert refused.value.code == code
    assert InformationRequest.objects.count() == 0


def test_only_staff_ask(submitted, pi):
    with pytest.raises(ValidationError) as refused:
        ask(submitted, pi)
    assert refused.value.code == "forbidden"


def test_not_before_the_deadline_nor_on_a_proposal_already_screened(pi, staff, submitted):
    from tests.factories import CallFactory  # noqa: PLC0415 -- one test's open call
    open_one = submitted_proposal(CallFactory(), pi=UserFactory())
    with pytest.raises(ValidationError) as refused:
        ask(open_one, staff)
    assert refused.value.code == "before_deadline"
    Proposal.objects.filter(pk=submitted.pk).update(state=ProposalState.ELIGIBLE)
    with pytest.raises(ValidationError) as refused:
        ask(submitted, staff)
    assert refused.value.code == "not_submitted"


def test_one_open_request_at_a_time(submitted, staff):
    ask(submitted, staff)
    with pytest.raises(ValidationError) as refused:
        ask(submitted, staff, items=["title"])
    assert refused.value.code == "already_open"
    assert InformationRequest.objects.count() == 1


# Cancelling, and screening around a request --------------------------------------------------------------------


def test_screening_waits_for_an_open_request_then_resumes_once_cancelled(submitted, staff):
    request = ask(submitted, staff)
    with translation.override("en"), pytest.raises(ValidationError) as refused:
        proposal_screen(proposal_id=submitted.pk, user=staff, eligible=True, reason="", now=timezone.now())
    assert refused.value.code == "information_requested"
    assert "wait for the PI's answer, or cancel the request" in refused.value.messages[0]
    information_request_cancel(request_id=request.pk, user=staff, now=timezone.now())
    assert AuditEntry.objects.filter(action="proposal.rfi_cancel").count() == 1
    proposal_screen(proposal_id=submitted.pk, user=staff, eligible=True, reason="", now=timezone.now())
    assert Proposal.objects.get(pk=submitted.pk).state == ProposalState.ELIGIBLE


def test_the_bulk_confirm_skips_a_proposal_with_an_open_request_and_names_it(past_call, staff):
    waiting = submitted_proposal(past_call)
    others = [submitted_proposal(past_call) for _ in range(2)]
    ask(waiting, staff)
    confirmed = screening_confirm_eligible(call_id=past_call.pk, user=staff, now=timezone.now())
    assert (confirmed.count, confirmed.waiting) == (2, [waiting.reference])
    assert Proposal.objects.get(pk=waiting.pk).state == ProposalState.SUBMITTED
    assert {Proposal.objects.get(pk=p.pk).state for p in others} == {ProposalState.ELIGIBLE}


def test_the_expiry_is_recorded_when_screening_first_notices_it(submitted, staff):
    now = timezone.now()
    request = ask(submitted, staff, now=now, deadline=now + dt.timedelta(days=1))
    later = now + dt.timedelta(days=1, minutes=5)
    assert request.state_at(later) == InformationRequestState.EXPIRED
    assert AuditEntry.objects.filter(action="proposal.rfi_expire").count() == 0  # computed until noticed
    proposal_screen(proposal_id=submitted.pk, user=staff, eligible=True, reason="", now=later)
    request.refresh_from_db()
    assert (request.state, request.closed_at) == (InformationRequestState.EXPIRED, request.deadline)
    entry = AuditEntry.objects.get(action="proposal.rfi_expire")
    assert (entry.actor, entry.created_at, entry.data["request"]) == (staff, later, request.pk)


def test_a_new_request_after_an_expired_one_records_the_expiry_first(submitted, staff):
    now = timezone.now()
    first = ask(submitted, staff, now=now, deadline=now + dt.timedelta(hours=1))
    later = now + dt.timedelta(hours=2)
    second = ask(submitted, staff, now=later, deadline=later + dt.timedelta(days=3))
    first.refresh_from_db()
    assert (first.state, second.state) == (InformationRequestState.EXPIRED, InformationRequestState.OPEN)


def test_cancelling_an_expired_request_is_refused(submitted, staff):
    now = timezone.now()
    request = ask(submitted, staff, now=now, deadline=now + dt.timedelta(hours=1))
    with pytest.raises(ValidationError) as refused:
        information_request_cancel(request_id=request.pk, user=staff, now=now + dt.timedelta(hours=2))
    assert refused.value.code == "expired"


def test_only_staff_cancel(submitted, staff, pi):
    request = ask(submitted, staff)
    with pytest.raises(ValidationError):
        information_request_cancel(request_id=request.pk, user=pi, now=timezone.now())


# The reminder --------------------------------------------------------------------------------------------------


def test_the_reminder_is_due_two_days_before_the_deadline_while_open(submitted, staff, pi):
    now = timezone.now()
    request = ask(submitted, staff, now=now, deadline=now + dt.timedelta(days=5))
    assert list(information_request_reminders(now)) == []
    dues = list(information_request_reminders(now + dt.timedelta(days=3, minutes=1)))
    assert [(due.kind, due.target, due.occurrence, due.due_at, [r.email for r in due.recipients]) for due in dues] == [
        ("information_request_reminder", request, "-2d", request.deadline - dt.timedelta(days=2), [pi.email])]
    information_request_cancel(request_id=request.pk, user=staff, now=now)
    assert list(information_request_reminders(now + dt.timedelta(days=3, minutes=1))) == []


# The screening page --------------------------------------------------------------------------------------------


def test_the_page_shows_open_answered_and_expired_requests(signed_in, past_call, staff):
    now = timezone.now()
    open_one, expired = submitted_proposal(past_call), submitted_proposal(past_call)
    ask(open_one, staff, items=["letter", "title"])
    InformationRequest.objects.create(proposal=expired, items=["team"], message="Équipe ?", asked_by=staff,
                                      asked_at=now - dt.timedelta(hours=20), deadline=now - dt.timedelta(hours=1))
    page = signed_in.get(reverse("admin:reviews_screening", args=[past_call.pk])).content.decode()
    assert "Information asked, until" in page and "May change: support letter, title" in page
    assert "Cancel the request" in page
    assert "Request expired unanswered on" in page
    assert page.count("Ask for information") == 1  # the expired one may be asked again, not the open one
    assert "Confirm the 1 automatically eligible proposal" in page  # the bulk confirm would skip the open one


def test_the_ask_page_sends_the_request_and_a_bad_form_keeps_what_was_typed(signed_in, submitted):
    url = reverse("admin:reviews_information_request", args=[submitted.call_id, submitted.pk])
    page = signed_in.get(url)
    assert page.status_code == 200 and "support letter" in page.content.decode()
    assert "What the PI may change" in page.content.decode()  # the form's labels, in the page's language
    typed = signed_in.post(url, {"items": ["letter"], "message": "Signez la lettre, s'il vous plaît.",
                                 "deadline": "2001-01-01T10:00"})
    assert typed.status_code == 400
    body = typed.content.decode()
    assert "The deadline of the request must be in the future." in body
    assert "Signez la lettre, s&#x27;il vous plaît." in body
    deadline = timezone.localtime(timezone.now() + dt.timedelta(days=10)).strftime("%Y-%m-%dT%H:%M")
    sent = signed_in.post(url, {"items": ["letter", "team"], "message": "Signez la lettre.", "deadline": deadline})
    assert sent.status_code == 302
    request = InformationRequest.objects.get()
    assert (request.items, timezone.localtime(request.deadline).strftime("%Y-%m-%dT%H:%M")) == (
        ["letter", "team"], deadline)
    assert request.language == "en"  # the language of the page it was written on


def test_the_message_keeps_the_language_it_was_written_in_and_marks_it_on_the_pis_pages_and_mail(
        client, staff, submitted, pi, mailoutbox, django_capture_on_commit_callbacks):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "fr"
    client.force_login(staff)
    url = reverse("admin:reviews_information_request", args=[submitted.call_id, submitted.pk])
    page = client.get(url).content.decode()
    assert "Ce que le porteur ou la porteuse peut modifier" in page and "What the PI may change" not in page
    deadline = timezone.localtime(timezone.now() + dt.timedelta(days=10)).strftime("%Y-%m-%dT%H:%M")
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(url, {"items": ["letter"], "message": "Signez la lettre de soutien.",
                                 "deadline": deadline}).status_code == 302
    request = InformationRequest.objects.get()
    assert request.language == "fr"
    html = next(alternative for mail in mailoutbox for alternative, kind in mail.alternatives if kind == "text/html")
    assert '<blockquote lang="fr">Signez la lettre de soutien.</blockquote>' in html
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    client.force_login(pi)
    shown = client.get(reverse("proposals:detail", args=[submitted.pk])).content.decode()
    assert '<blockquote lang="fr">Signez la lettre de soutien.</blockquote>' in shown


def test_the_page_cancels_a_request(signed_in, submitted, staff):
    request = ask(submitted, staff)
    url = reverse("admin:reviews_screening", args=[submitted.call_id])
    assert signed_in.post(url, {"action": "cancel_request", "request": request.pk}).status_code == 302
    request.refresh_from_db()
    assert request.state == InformationRequestState.CANCELLED


def test_the_screening_rows_read_the_requests_in_a_constant_number_of_queries(past_call, staff, queries):
    now = timezone.now()

    def grow(n):
        for index in range(n):
            proposal = submitted_proposal(past_call)
            if index % 2:
                ask(proposal, staff, items=["letter", "title"], now=now)

    def read():
        return [(row.information_state, row.information_request and row.information_request.items)
                for row in screening_rows(call=past_call, now=now)]

    assert queries.at_sizes(grow, read, sizes=(3, 30)) == (7, 7)


# Two staff members at once -------------------------------------------------------------------------------------


@pytest.mark.sqlite
@pytest.mark.django_db(transaction=True)
def test_two_staff_asking_at_once_give_one_open_request(sqlite_file_copy, past_call, staff):
    proposal = submitted_proposal(past_call)
    path, copy = sqlite_file_copy
    copy()
    now = timezone.now()

    def work():
        try:
            return ask(proposal, staff, now=now).pk
        except ValidationError as refused:
            return refused.code

    results, errors = run_together(2, work, database=path)
    assert errors == []
    assert sorted(type(result).__name__ for result in results) == ["int", "str"]
    assert [result for result in results if isinstance(result, str)] == ["already_open"]
    with _using(_file_connection(path)):
        assert InformationRequest.objects.filter(proposal=proposal, state="open").count() == 1
