"""The PI's reminders before and at closing (proposals/reminders.py), through the real dispatcher.

Celery is eager here: ``dispatch`` records what is due and the outbox sends it at once to ``mailoutbox``.
The worker side checks relevance with the real clock, so every date is relative to ``timezone.now()``.
"""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from calls.domain import call_extend
from calls.models import CallState
from iea.notifications import domain as outbox
from iea.notifications.domain import deliver, dispatch
from iea.notifications.models import Notification, NotificationState
from proposals.domain import invitation_create, letter_attach, proposal_submit
from proposals.letters import check_pdf
from proposals.models import ProposalState
from proposals.reminders import draft_reminders
from tests.factories import CallFactory, ProposalFactory, UserFactory
from tests.pdfs import pdf_upload

pytestmark = pytest.mark.django_db

DAY = dt.timedelta(days=1)


def closing_in(delta: dt.timedelta, **kwargs):
    return CallFactory(closes_at=timezone.now() + delta, **kwargs)


def attach(proposal):
    letter_attach(proposal_id=proposal.pk, pdf=check_pdf(pdf_upload()), now=timezone.now(), user=proposal.pi)


def sent(kind=None):
    rows = Notification.objects.filter(state=NotificationState.SENT)
    return sorted(rows.filter(kind=kind) if kind else rows, key=lambda n: n.pk)


def test_nothing_is_due_three_weeks_before_closing(mailoutbox):
    ProposalFactory(call=closing_in(20 * DAY), complete=True)
    assert dispatch(now=timezone.now()).recorded == 0
    assert mailoutbox == []


def test_d14_reminds_unsubmitted_drafts_with_what_blocks_them(mailoutbox):
    call = closing_in(10 * DAY)
    draft = ProposalFactory(call=call, complete=True)  # no letter yet
    withdrawn = ProposalFactory(call=call, complete=True, state=ProposalState.WITHDRAWN)
    submitted = ProposalFactory(call=call, complete=True)
    attach(submitted)
    proposal_submit(proposal_id=submitted.pk, user=submitted.pi, now=timezone.now())
    mailoutbox.clear()

    dispatch(now=timezone.now())

    [reminder] = sent("draft_reminder")
    assert (reminder.object_id, reminder.occurrence, reminder.email) == (draft.pk, "-14d", draft.pi.email)
    assert withdrawn.pi.email not in [m.to[0] for m in mailoutbox]
    [message] = mailoutbox
    assert message.subject.startswith(f"{draft.reference} is not submitted yet")
    assert "Still blocking the submission:" in message.body
    assert "upload the letter" in message.body.lower()
    assert f"/proposals/{draft.pk}/edit/" in message.body
    assert "/proposals/" in message.alternatives[0][0]


def test_changes_after_submitting_are_reminded_as_such(mailoutbox):
    call = closing_in(10 * DAY)
    proposal = ProposalFactory(call=call, complete=True)
    attach(proposal)
    proposal_submit(proposal_id=proposal.pk, user=proposal.pi, now=timezone.now())
    type(proposal).objects.filter(pk=proposal.pk).update(has_unsubmitted_changes=True)
    mailoutbox.clear()

    dispatch(now=timezone.now())

    [message] = mailoutbox
    assert "your changes are not submitted" in message.subject
    assert "Everything required is there: you can submit now." in message.body


def test_d7_missing_letter_replaces_the_draft_reminder_and_reminds_the_partner(mailoutbox):
    call = closing_in(6 * DAY)
    no_letter = ProposalFactory(call=call, complete=True)
    invitation = invitation_create(proposal_id=no_letter.pk, user=no_letter.pi, email="partner@usp.example.br",
                                   language="en", now=timezone.now())
    with_letter = ProposalFactory(call=call, complete=True)
    attach(with_letter)
    mailoutbox.clear()

    dispatch(now=timezone.now())

    assert [(n.kind, n.object_id, n.occurrence) for n in sent()] == [
        ("draft_reminder", with_letter.pk, "-7d"),
        ("letter_reminder", no_letter.pk, "-7d"),
        ("partner_reminder", invitation.pk, "-7d"),
    ]
    letter_mail = next(m for m in mailoutbox if m.to == [no_letter.pi.email])
    assert "We sent your partner (partner@usp.example.br) their personal link again." in letter_mail.body
    partner_mail = next(m for m in mailoutbox if m.to == ["partner@usp.example.br"])
    assert "/partner/" in partner_mail.body


def test_a_letter_uploaded_after_the_letter_reminder_brings_no_draft_reminder_that_day(mailoutbox):
    proposal = ProposalFactory(call=closing_in(6 * DAY), complete=True)
    dispatch(now=timezone.now())
    attach(proposal)
    dispatch(now=timezone.now())
    assert [(n.kind, n.occurrence) for n in sent()] == [("letter_reminder", "-7d")]


def test_after_a_letter_reminder_a_moved_deadline_brings_no_earlier_draft_reminder(staff, mailoutbox):
    now = timezone.now()
    call = closing_in(6 * DAY)
    ProposalFactory(call=call, complete=True)
    dispatch(now=now)
    call_extend(call_id=call.pk, user=staff, now=now, new_closes_at=now + 16 * DAY, reason="Strike.")
    dispatch(now=now + 5 * DAY + 12 * dt.timedelta(hours=1))  # the new D−10: the D−14 window
    assert [(n.kind, n.occurrence) for n in sent()] == [("letter_reminder", "-7d")]


def test_an_expired_partner_link_is_not_resent_and_the_pi_is_told(mailoutbox):
    call = closing_in(6 * DAY)
    proposal = ProposalFactory(call=call, complete=True)
    invitation = invitation_create(proposal_id=proposal.pk, user=proposal.pi, email="partner@usp.example.br",
                                   language="en", now=timezone.now())
    type(invitation).objects.filter(pk=invitation.pk).update(expires_at=timezone.now() - DAY)
    mailoutbox.clear()

    dispatch(now=timezone.now())

    assert [n.kind for n in sent()] == ["letter_reminder"]
    assert "has expired" in mailoutbox[0].body


def test_dispatching_twice_sends_once(mailoutbox):
    ProposalFactory(call=closing_in(10 * DAY), complete=True)
    first = dispatch(now=timezone.now())
    second = dispatch(now=timezone.now())
    assert (first.recorded, second.recorded) == (1, 0)
    assert len(mailoutbox) == 1


def test_after_an_outage_only_the_latest_step_goes_out(mailoutbox):
    ProposalFactory(call=closing_in(12 * dt.timedelta(hours=1)), complete=True)
    dispatch(now=timezone.now())
    assert [n.occurrence for n in sent("draft_reminder")] == ["-1d"]
    # The letter reminder has a single step (D−7), still due until the closing.
    assert [n.occurrence for n in sent("letter_reminder")] == ["-7d"]


def test_a_moved_deadline_moves_the_next_step_and_repeats_none(staff, mailoutbox):
    now = timezone.now()
    call = closing_in(6 * DAY)
    proposal = ProposalFactory(call=call, complete=True)
    attach(proposal)
    dispatch(now=now)
    assert [n.occurrence for n in sent("draft_reminder")] == ["-7d"]

    call_extend(call_id=call.pk, user=staff, now=now, new_closes_at=now + 16 * DAY, reason="Strike.")
    # At the old D−1, and at the new D−14 window: nothing (the D−7 is on record, and steps only move forward).
    dispatch(now=now + 5 * DAY + 12 * dt.timedelta(hours=1))
    dispatch(now=now + 3 * DAY)
    assert [n.occurrence for n in sent("draft_reminder")] == ["-7d"]
    # The new D−7 is the one already sent: not repeated. The new D−1 goes out.
    dispatch(now=now + 9 * DAY + dt.timedelta(hours=1))
    dispatch(now=now + 15 * DAY + 12 * dt.timedelta(hours=1))
    assert [n.occurrence for n in sent("draft_reminder")] == ["-7d", "-1d"]
    assert len(mailoutbox) == 2


def test_a_reminder_recorded_then_overtaken_by_the_submission_is_skipped(monkeypatch, mailoutbox):
    proposal = ProposalFactory(call=closing_in(10 * DAY), complete=True)
    monkeypatch.setattr(outbox, "enqueue", lambda ids, **_: None)  # the worker is late
    dispatch(now=timezone.now())
    attach(proposal)
    proposal_submit(proposal_id=proposal.pk, user=proposal.pi, now=timezone.now())
    mailoutbox.clear()

    reminder = Notification.objects.get(kind="draft_reminder")
    deliver([reminder.pk])

    reminder.refresh_from_db()
    assert reminder.state == NotificationState.SKIPPED
    assert reminder.last_error == "The proposal was submitted or withdrawn."
    assert mailoutbox == []


def test_closing_notice_to_drafts_never_submitted(mailoutbox):
    call = CallFactory(opens_at=timezone.now() - 40 * DAY, closes_at=timezone.now() - dt.timedelta(hours=2),
                       state=CallState.CLOSED)
    never = ProposalFactory(call=call, complete=True)
    old_call = CallFactory(opens_at=timezone.now() - 90 * DAY, closes_at=timezone.now() - 40 * DAY,
                           state=CallState.CLOSED)
    ProposalFactory(call=old_call, complete=True)

    dispatch(now=timezone.now())

    assert [(n.kind, n.object_id) for n in sent()] == [("call_closed_draft", never.pk)]
    assert "was never submitted" in mailoutbox[0].body


def test_the_reminder_is_in_the_pis_language(rendered_mails, mailoutbox):
    french = UserFactory(email="claire@cnrs.example.fr", language="fr")
    ProposalFactory(call=closing_in(10 * DAY), complete=True, pi=french)
    dispatch(now=timezone.now())
    assert rendered_mails == [("draft_reminder", "fr")]
    assert mailoutbox[0].body.startswith("Bonjour")


@pytest.mark.parametrize("size", [3, 30])
def test_the_schedule_runs_the_same_queries_whatever_the_number_of_drafts(size):
    call = closing_in(6 * DAY)
    for index in range(size):
        proposal = ProposalFactory(call=call, complete=True)
        if index % 2:
            attach(proposal)
    with CaptureQueriesContext(connection) as queries:
        dues = list(draft_reminders(timezone.now()))
    assert len(dues) == (size // 2)
    assert len(queries) == 2  # the open calls, then their unsubmitted proposals with their PIs
