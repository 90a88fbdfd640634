"""The outbox (iea.notifications): recorded in the caller's transaction and sent once it commits, each
(kind, object, recipient, occurrence) once, claimed before it is sent, retried with backoff on SMTP and
rendering errors then left failed with an audit entry, skipped when no longer relevant, pumped again when
lost, resent by staff as a new row, and the reminder steps' windows.

Celery is eager and mail goes to ``mailoutbox``. Outside ``django_capture_on_commit_callbacks(execute=True)``
the test's transaction never commits, so ``notify`` only records: the tests then call ``deliver`` or
``pump`` themselves.
"""

import datetime as dt
import os
import smtplib
import subprocess
import sys
import uuid
from urllib.parse import urlsplit

import pytest
from django.conf import settings as django_settings
from django.core.mail.backends.locmem import EmailBackend
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from iea.accounts.notifications import notify_account_mail
from iea.audit.models import AuditEntry
from iea.notifications import domain, kinds
from iea.notifications.domain import (
    DeliveryResult,
    NotificationError,
    deliver,
    dispatch,
    notification_resend,
    notify,
    pump,
    retry_delay,
)
from iea.notifications.kinds import Due, Kind, Recipient, current_step, parse_offsets, parse_step, step_label
from iea.notifications.models import Notification, NotificationState
from proposals.domain import invitation_create, letter_attach, proposal_submit, proposal_withdraw
from proposals.letters import check_pdf
from proposals.models import Proposal
from tests.factories import ProposalFactory, UserFactory
from tests.pdfs import pdf_upload

pytestmark = pytest.mark.django_db

State = NotificationState
SECOND = dt.timedelta(seconds=1)
MINUTE = dt.timedelta(minutes=1)
DAY = dt.timedelta(days=1)


class FlakyBackend(EmailBackend):
    """The locmem backend behind an SMTP server that drops the connection ``failures`` times, then works
    (``failures = -1``: never works)."""

    failures = 0
    calls = 0

    def send_messages(self, messages):
        cls = type(self)
        cls.calls += 1
        if cls.failures == 0:
            return super().send_messages(messages)
        if cls.failures > 0:
            cls.failures -= 1
        raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")


class SlowBackend(EmailBackend):
    """An SMTP server so slow that, while the first message of a batch goes out, the claim times out and
    another worker takes over every other row of the batch (``SlowBackend.taken_over`` says which)."""

    taken_over: list[int] = []

    def send_messages(self, messages):
        Notification.objects.filter(pk__in=type(self).taken_over).update(claim=uuid.uuid4(),
                                                                         claimed_at=timezone.now())
        type(self).taken_over = []
        return super().send_messages(messages)


class SilentBackend(EmailBackend):
    """A backend that reports having sent nothing, without raising."""

    def send_messages(self, messages):
        return 0


@pytest.fixture
def flaky(settings):
    settings.EMAIL_BACKEND = f"{__name__}.FlakyBackend"
    FlakyBackend.failures, FlakyBackend.calls = 0, 0
    yield FlakyBackend
    FlakyBackend.failures, FlakyBackend.calls = 0, 0


@pytest.fixture
def outbox_config(settings):
    """Small, explicit numbers for the outbox's timing."""
    settings.NOTIFICATIONS = {**django_settings.NOTIFICATIONS, "CLAIM_TIMEOUT": 600, "REQUEUE_AFTER": 300,
                              "MAX_ATTEMPTS": 3, "RETRY_BASE": 60}
    return settings.NOTIFICATIONS


@pytest.fixture
def broken_kind():
    """A kind whose template context raises, as a bug in a kind's code would."""

    def explode(proposal, notification):
        raise RuntimeError("the template context is broken")

    kind = kinds.register(Kind(name="test_broken", label="Broken", template="withdrawn", model=Proposal,
                               context=explode))
    yield kind
    del kinds.KINDS[kind.name]


def record(proposal, *, kind="withdrawn", recipient=None, now=None, occurrence="") -> Notification:
    """Record one message (the test's transaction never commits: nothing is queued)."""
    recipient = recipient or proposal.pi
    notify(kind=kind, target=proposal, recipients=[Recipient.of(recipient)], now=now or timezone.now(),
           occurrence=occurrence)
    return Notification.objects.get(kind=kind, object_id=proposal.pk, email=recipient.email, occurrence=occurrence)


def fresh(row: Notification) -> Notification:
    return Notification.objects.get(pk=row.pk)


def states(*rows) -> list[str]:
    return [fresh(row).state for row in rows]


# Recording in the caller's transaction --------------------------------------------------------------------


def test_nothing_is_sent_before_the_transaction_commits(draft, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with transaction.atomic():
            notify(kind="withdrawn", target=draft, recipients=[Recipient.of(draft.pi)], now=timezone.now())
            row = Notification.objects.get()
            assert (row.state, mailoutbox) == (State.PENDING, [])
        assert mailoutbox == []
    assert len(callbacks) == 1
    assert fresh(row).state == State.SENT
    assert [m.to for m in mailoutbox] == [[draft.pi.email]]
    assert mailoutbox[0].subject == f"Proposal {draft.reference} withdrawn"


def test_a_rolled_back_transaction_leaves_no_row_and_no_mail(draft, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(RuntimeError), \
            transaction.atomic():
        notify(kind="withdrawn", target=draft, recipients=[Recipient.of(draft.pi)], now=timezone.now())
        assert Notification.objects.count() == 1
        raise RuntimeError("the change failed after recording its message")
    assert (Notification.objects.count(), callbacks, mailoutbox) == (0, [], [])


def test_a_domain_change_refused_midway_sends_nothing(draft, mailoutbox, django_capture_on_commit_callbacks):
    """The withdrawal notice is recorded by ``proposal_withdraw`` in its transaction: when the domain
    function fails after the change, neither the change nor its message is kept."""
    letter_attach(proposal_id=draft.pk, pdf=check_pdf(pdf_upload()), now=timezone.now(), user=draft.pi)
    proposal_submit(proposal_id=draft.pk, user=draft.pi, now=timezone.now())
    Notification.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError), transaction.atomic():
        proposal_withdraw(proposal_id=draft.pk, user=draft.pi, now=timezone.now())
        raise RuntimeError("a later step of the same request failed")
    assert (Notification.objects.count(), mailoutbox) == (0, [])

    with django_capture_on_commit_callbacks(execute=True):
        proposal_withdraw(proposal_id=draft.pk, user=draft.pi, now=timezone.now())
    assert list(Notification.objects.values_list("kind", "state")) == [("withdrawn", State.SENT)]
    assert [m.subject for m in mailoutbox] == [f"Proposal {draft.reference} withdrawn"]


def test_the_same_message_recorded_twice_is_one_row_and_one_mail(draft, mailoutbox,
                                                                  django_capture_on_commit_callbacks):
    pi = Recipient.of(draft.pi)
    same_address = Recipient(email=draft.pi.email.upper(), language="en")
    with django_capture_on_commit_callbacks(execute=True):
        notify(kind="withdrawn", target=draft, recipients=[pi, same_address], now=timezone.now())
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        notify(kind="withdrawn", target=draft, recipients=[pi], now=timezone.now() + MINUTE)
    assert callbacks == []  # nothing new to queue
    assert list(Notification.objects.values_list("email", "state")) == [(draft.pi.email, State.SENT)]
    assert len(mailoutbox) == 1


def test_other_occurrences_recipients_and_objects_are_other_messages(draft, other_pi):
    other = ProposalFactory(pi=other_pi)
    now = timezone.now()
    record(draft, now=now)
    record(draft, now=now, occurrence="2")
    record(draft, now=now, recipient=other_pi)
    record(other, now=now)
    assert Notification.objects.count() == 4


def test_several_messages_are_recorded_and_queued_together(draft, other_pi, mailoutbox,
                                                           django_capture_on_commit_callbacks):
    """``notify_all``: one query per model finds those on record, one insert, one batch queued."""
    other = ProposalFactory(pi=other_pi)
    now = timezone.now()
    notify(kind="withdrawn", target=other, recipients=[Recipient.of(other_pi)], now=now)  # already on record
    dues = [Due(kind="withdrawn", target=draft, recipients=[Recipient.of(draft.pi)], occurrence="", due_at=now),
            Due(kind="withdrawn", target=other, recipients=[Recipient.of(other_pi)], occurrence="", due_at=now),
            Due(kind="draft_reminder", target=draft, recipients=[Recipient.of(draft.pi)], occurrence="-7d", due_at=now)]
    with django_capture_on_commit_callbacks() as callbacks, CaptureQueriesContext(connection) as queries:
        domain.notify_all(dues=dues, now=now)

    assert len([query for query in queries if "notifications_notification" in query["sql"]]) == 3
    assert len(callbacks) == 1
    assert sorted(Notification.objects.values_list("kind", "object_id")) == [
        ("draft_reminder", draft.pk), ("withdrawn", draft.pk), ("withdrawn", other.pk)]
    with pytest.raises(ValueError, match="nonexistent"):
        domain.notify_all(dues=[Due(kind="nonexistent", target=draft, recipients=[], occurrence="", due_at=now)], now=now)


def test_an_unknown_kind_is_refused_at_once(draft):
    with pytest.raises(ValueError, match="nonexistent"):
        notify(kind="nonexistent", target=draft, recipients=[Recipient.of(draft.pi)], now=timezone.now())
    assert Notification.objects.count() == 0


def test_a_recipient_without_an_address_is_left_out(draft):
    notify(kind="withdrawn", target=draft, recipients=[Recipient(email="", language="en"), Recipient.of(draft.pi)],
           now=timezone.now())
    assert list(Notification.objects.values_list("email", flat=True)) == [draft.pi.email]


# Claiming ----------------------------------------------------------------------------------------------------


def test_deliver_claims_sends_and_marks_sent_once(draft, mailoutbox):
    row = record(draft)
    first = deliver([row.pk])
    second = deliver([row.pk])
    assert (first, second) == (DeliveryResult(sent=1), DeliveryResult())
    row = fresh(row)
    assert (row.state, row.attempts, row.last_error) == (State.SENT, 1, "")
    assert row.sent_at is not None and row.claim is not None
    assert row.subject == f"Proposal {draft.reference} withdrawn"
    assert "was withdrawn" in row.body
    assert len(mailoutbox) == 1


def test_deliver_sends_only_the_rows_it_is_given(draft, other_pi, mailoutbox):
    mine, other = record(draft), record(draft, recipient=other_pi)
    assert deliver([mine.pk]) == DeliveryResult(sent=1)
    assert states(mine, other) == [State.SENT, State.PENDING]
    assert [m.to for m in mailoutbox] == [[draft.pi.email]]


def test_a_row_claimed_recently_is_not_claimed_again(draft, mailoutbox, outbox_config):
    row = record(draft)
    now = timezone.now()
    claim = uuid.uuid4()
    Notification.objects.filter(pk=row.pk).update(state=State.SENDING, claim=claim,
                                                  claimed_at=now - dt.timedelta(seconds=599))
    assert deliver([row.pk], now=now) == DeliveryResult()
    row = fresh(row)
    assert (row.state, row.claim, mailoutbox) == (State.SENDING, claim, [])


def test_a_row_claimed_longer_than_the_timeout_ago_is_claimed_again(draft, mailoutbox, outbox_config):
    """The worker that claimed it died: another one sends it."""
    row = record(draft)
    now = timezone.now()
    dead = uuid.uuid4()
    Notification.objects.filter(pk=row.pk).update(state=State.SENDING, claim=dead,
                                                  claimed_at=now - dt.timedelta(seconds=601))
    assert deliver([row.pk], now=now) == DeliveryResult(sent=1)
    row = fresh(row)
    assert row.state == State.SENT
    assert row.claim != dead
    assert len(mailoutbox) == 1


def test_a_message_whose_worker_keeps_dying_ends_failed_not_in_a_loop(draft, mailoutbox, outbox_config):
    """A poison message (it kills the worker each time): every takeover counts as an attempt, and after
    MAX_ATTEMPTS (3 here) it is failed, audited and shown to staff, never sent again."""
    row = record(draft)
    now = timezone.now()
    Notification.objects.filter(pk=row.pk).update(state=State.SENDING, claim=uuid.uuid4(),
                                                  claimed_at=now - dt.timedelta(seconds=601))
    # The takeover counts the crash; this time the message goes out.
    assert deliver([row.pk], now=now) == DeliveryResult(sent=1)
    assert fresh(row).attempts == 2  # the crash, then the successful send
    Notification.objects.filter(pk=row.pk).update(state=State.SENDING, claim=uuid.uuid4(), attempts=2,
                                                  claimed_at=now - dt.timedelta(seconds=601))
    mailoutbox.clear()
    assert deliver([row.pk], now=now) == DeliveryResult(failed=1)
    row = fresh(row)
    assert (row.state, row.attempts) == (State.FAILED, 3)
    assert "worker stopped" in row.last_error
    assert mailoutbox == []
    assert AuditEntry.objects.filter(action="notification.failed", object_id=str(row.pk)).count() == 1


def test_the_claim_timeout_comes_from_the_settings(draft, mailoutbox, settings):
    row = record(draft)
    now = timezone.now()
    Notification.objects.filter(pk=row.pk).update(state=State.SENDING, claim=uuid.uuid4(), claimed_at=now - MINUTE)
    settings.NOTIFICATIONS = {**django_settings.NOTIFICATIONS, "CLAIM_TIMEOUT": 120}
    assert deliver([row.pk], now=now) == DeliveryResult()
    settings.NOTIFICATIONS = {**django_settings.NOTIFICATIONS, "CLAIM_TIMEOUT": 30}
    assert deliver([row.pk], now=now) == DeliveryResult(sent=1)
    assert len(mailoutbox) == 1


def test_a_worker_whose_claim_was_taken_over_records_nothing(draft, mailoutbox):
    """Worker A claimed the row and stalled; B reclaimed and sent it. A's outcome is refused."""
    row = record(draft)
    stale = uuid.uuid4()
    Notification.objects.filter(pk=row.pk).update(state=State.SENDING, claim=stale,
                                                  claimed_at=timezone.now() - DAY)
    assert deliver([row.pk]) == DeliveryResult(sent=1)
    sent = fresh(row)
    assert domain._finish(sent, stale, state=State.FAILED, last_error="A's late failure") is False
    assert (fresh(row).state, fresh(row).last_error, fresh(row).claim) == (State.SENT, "", sent.claim)
    # the claim that is current is accepted (while the row is still being sent)
    Notification.objects.filter(pk=row.pk).update(state=State.SENDING)
    assert domain._finish(sent, sent.claim, state=State.FAILED, last_error="x") is True
    assert fresh(row).state == State.FAILED


def test_a_row_taken_over_while_the_batch_was_slow_is_not_sent_twice(draft, other_pi, mailoutbox, settings):
    """The second row's claim expired while the first was sent and another worker claimed it: the first
    worker leaves it to that one (otherwise both would send it)."""
    settings.EMAIL_BACKEND = f"{__name__}.SlowBackend"
    # A timeout of zero: the lease is renewed (and checked) before every message.
    settings.NOTIFICATIONS = {**django_settings.NOTIFICATIONS, "CLAIM_TIMEOUT": 0}
    first, second = record(draft), record(draft, recipient=other_pi)
    SlowBackend.taken_over = [second.pk]
    assert deliver([first.pk, second.pk]) == DeliveryResult(sent=1, lost=1)
    assert [m.to for m in mailoutbox] == [[draft.pi.email]]
    assert states(first, second) == [State.SENT, State.SENDING]  # the other worker's to finish


def test_the_batch_renews_its_claim_every_third_of_the_timeout(draft, other_pi, mailoutbox, settings):
    """The claim is renewed while the batch goes out, so the timeout bounds a pause, not a batch; and it
    is one UPDATE per third of the timeout, not one per message."""
    rows = [record(draft), record(draft, recipient=other_pi)]
    long_ago = timezone.now() - DAY
    settings.NOTIFICATIONS = {**django_settings.NOTIFICATIONS, "CLAIM_TIMEOUT": 0}
    deliver([row.pk for row in rows], now=long_ago)
    assert [fresh(row).claimed_at > long_ago + dt.timedelta(hours=23) for row in rows] == [True, True]
    assert len(mailoutbox) == 2

    more = [record(draft, occurrence="again"), record(draft, recipient=other_pi, occurrence="again")]
    settings.NOTIFICATIONS = {**django_settings.NOTIFICATIONS, "CLAIM_TIMEOUT": 600}
    with CaptureQueriesContext(connection) as queries:
        deliver([row.pk for row in more])
    updates = [q["sql"] for q in queries if q["sql"].startswith("UPDATE")]
    assert len(updates) == 2 + len(more)  # the two claims (taken over, then waiting), then one "sent" each
    assert len(mailoutbox) == 4


def test_the_message_id_names_the_row(draft, mailoutbox):
    row = record(draft)
    deliver([row.pk])
    host = urlsplit(django_settings.SITE_URL).hostname
    [message] = mailoutbox
    assert message.extra_headers["Message-ID"] == f"<notification-{row.pk}@{host}>"
    assert message.message()["Message-ID"] == f"<notification-{row.pk}@{host}>"


def test_the_message_goes_in_the_recipients_current_language(draft, mailoutbox):
    row = record(draft)
    type(draft.pi).objects.filter(pk=draft.pi.pk).update(language="fr")
    deliver([row.pk])
    [message] = mailoutbox
    assert message.subject == f"Proposition {draft.reference} retirée"
    assert fresh(row).language == "en"  # the language on record is the fallback for addresses without account


# SMTP and rendering errors ----------------------------------------------------------------------------------


def test_retry_delay_doubles_from_the_base_up_to_a_day():
    base = MINUTE
    assert [retry_delay(n, base) for n in (0, 1, 2, 3, 4)] == [base, base, 2 * base, 4 * base, 8 * base]
    assert retry_delay(30, base) == DAY


def test_smtp_errors_are_retried_with_backoff_then_sent(draft, mailoutbox, flaky, outbox_config):
    flaky.failures = 2
    row = record(draft)

    before = timezone.now()
    result = deliver([row.pk])
    after = timezone.now()
    assert (result.sent, result.retrying, result.retry_in) == (0, 1, MINUTE)
    row = fresh(row)
    assert (row.state, row.attempts, mailoutbox) == (State.PENDING, 1, [])
    assert row.last_error == "SMTPServerDisconnected: Connection unexpectedly closed"
    assert before + MINUTE <= row.next_attempt_at <= after + MINUTE

    # not before its time
    assert deliver([row.pk], now=row.next_attempt_at - SECOND) == DeliveryResult()
    assert (fresh(row).attempts, flaky.calls) == (1, 1)

    before = timezone.now()
    result = deliver([row.pk], now=row.next_attempt_at)
    after = timezone.now()
    assert (result.retrying, result.retry_in) == (1, 2 * MINUTE)
    row = fresh(row)
    assert (row.state, row.attempts) == (State.PENDING, 2)
    assert before + 2 * MINUTE <= row.next_attempt_at <= after + 2 * MINUTE

    assert deliver([row.pk], now=row.next_attempt_at) == DeliveryResult(sent=1)
    row = fresh(row)
    assert (row.state, row.attempts, row.last_error) == (State.SENT, 3, "")
    assert len(mailoutbox) == 1
    assert not AuditEntry.objects.filter(action="notification.failed").exists()


def test_after_the_last_attempt_the_message_is_failed_and_audited(draft, mailoutbox, flaky, outbox_config):
    flaky.failures = -1
    row = record(draft)
    results = []
    now = timezone.now()
    for _attempt in range(3):
        results.append(deliver([row.pk], now=now))
        now = fresh(row).next_attempt_at or now
    assert [(r.retrying, r.failed) for r in results] == [(1, 0), (1, 0), (0, 1)]
    row = fresh(row)
    assert (row.state, row.attempts, row.sent_at) == (State.FAILED, 3, None)
    assert row.last_error.startswith("SMTPServerDisconnected")
    [entry] = AuditEntry.objects.filter(action="notification.failed")
    assert (entry.target, entry.from_state, entry.to_state, entry.actor) == (row, State.SENDING, State.FAILED, None)
    assert "SMTPServerDisconnected" in entry.reason
    # failed is final: nothing claims it again
    assert deliver([row.pk], now=now + DAY) == DeliveryResult()
    assert (flaky.calls, mailoutbox) == (3, [])


def test_the_eager_task_retries_later_not_at_once(draft, mailoutbox, flaky, outbox_config,
                                                  django_capture_on_commit_callbacks):
    """The task asks to run again after the backoff; it must not loop on a row that is not due yet."""
    flaky.failures = -1
    with django_capture_on_commit_callbacks(execute=True):
        notify(kind="withdrawn", target=draft, recipients=[Recipient.of(draft.pi)], now=timezone.now())
    row = Notification.objects.get()
    assert (row.state, row.attempts, flaky.calls) == (State.PENDING, 1, 1)


def test_a_rendering_error_is_retried_then_failed_without_stopping_the_batch(draft, other_pi, mailoutbox,
                                                                             broken_kind, outbox_config):
    broken = record(draft, kind="test_broken")
    good = record(draft, recipient=other_pi)
    result = deliver([broken.pk, good.pk])
    assert (result.sent, result.retrying) == (1, 1)
    assert states(broken, good) == [State.PENDING, State.SENT]
    assert fresh(broken).last_error == "RuntimeError: the template context is broken"
    assert [m.to for m in mailoutbox] == [[other_pi.email]]

    for _attempt in range(2):
        deliver([broken.pk], now=fresh(broken).next_attempt_at)
    broken = fresh(broken)
    assert (broken.state, broken.attempts) == (State.FAILED, 3)
    assert list(AuditEntry.objects.filter(action="notification.failed").values_list("object_id", flat=True)) == [
        str(broken.pk)]
    assert len(mailoutbox) == 1


def test_a_backend_that_sends_nothing_is_a_failure(draft, mailoutbox, settings, outbox_config):
    settings.EMAIL_BACKEND = f"{__name__}.SilentBackend"
    row = record(draft)
    assert deliver([row.pk]).retrying == 1
    row = fresh(row)
    assert (row.state, row.attempts, row.sent_at) == (State.PENDING, 1, None)
    assert row.last_error == "SMTPException: The mail backend did not send the message."


def test_an_unknown_kind_on_record_fails_at_once(draft, mailoutbox):
    row = record(draft)
    Notification.objects.filter(pk=row.pk).update(kind="removed_kind")
    assert deliver([row.pk]) == DeliveryResult(failed=1)
    assert (fresh(row).state, fresh(row).last_error) == (State.FAILED, "Unknown kind of message removed_kind.")
    assert mailoutbox == []


# Skipping ----------------------------------------------------------------------------------------------------


def test_a_message_no_longer_relevant_is_skipped_with_its_reason(draft, mailoutbox):
    now = timezone.now()
    invitation = invitation_create(proposal_id=draft.pk, user=draft.pi, email="ana@usp.example.br", language="en",
                                   now=now)
    row = Notification.objects.get(kind="partner_invitation")
    invitation_create(proposal_id=draft.pk, user=draft.pi, email="ana@usp.example.br", language="en", now=now + SECOND)
    invitation.refresh_from_db()
    assert invitation.revoked_at is not None
    assert deliver([row.pk]) == DeliveryResult(skipped=1)
    row = fresh(row)
    assert (row.state, row.last_error, row.sent_at, row.body) == (State.SKIPPED, "The invitation was revoked.", None, "")
    assert mailoutbox == []
    # the newer invitation still goes out
    newer = Notification.objects.exclude(pk=row.pk).get(kind="partner_invitation")
    assert deliver([newer.pk]) == DeliveryResult(sent=1)
    assert [m.to for m in mailoutbox] == [["ana@usp.example.br"]]


def test_a_message_about_a_deleted_object_is_skipped(draft, mailoutbox):
    row = record(draft)
    Proposal.objects.filter(pk=draft.pk).delete()
    assert deliver([row.pk]) == DeliveryResult(skipped=1)
    row = fresh(row)
    assert (row.state, row.last_error) == (State.SKIPPED, "The object of this message no longer exists.")
    assert mailoutbox == []


# Pumping -----------------------------------------------------------------------------------------------------


def test_pump_queues_what_waits_and_nothing_in_hand(draft, mailoutbox, outbox_config):
    """Queued rows are sent at once (eager Celery): a row pumped is a row sent."""
    now = timezone.now()
    users = UserFactory.create_batch(9)
    rows = {name: record(draft, recipient=user, now=now) for name, user in zip(
        ["never_queued", "queued_recently", "queued_long_ago", "claim_expired", "claimed_recently", "failed",
         "sent", "skipped", "retry_later"], users, strict=True)}
    update = {
        "never_queued": {"enqueued_at": None},
        "queued_recently": {"enqueued_at": now - dt.timedelta(seconds=299)},
        "queued_long_ago": {"enqueued_at": now - dt.timedelta(seconds=301)},
        "claim_expired": {"state": State.SENDING, "claim": uuid.uuid4(), "claimed_at": now - dt.timedelta(seconds=601),
                          "enqueued_at": now - DAY},
        "claimed_recently": {"state": State.SENDING, "claim": uuid.uuid4(), "claimed_at": now - MINUTE,
                             "enqueued_at": now - DAY},
        "failed": {"state": State.FAILED, "enqueued_at": None},
        "sent": {"state": State.SENT, "enqueued_at": None},
        "skipped": {"state": State.SKIPPED, "enqueued_at": None},
        "retry_later": {"enqueued_at": None, "next_attempt_at": now + MINUTE, "attempts": 1},
    }
    for name, fields in update.items():
        Notification.objects.filter(pk=rows[name].pk).update(**fields)

    assert pump(now=now) == 3
    pumped = {"never_queued", "queued_long_ago", "claim_expired"}
    assert {name for name, row in rows.items() if fresh(row).enqueued_at == now} == pumped
    assert {name: fresh(row).state for name, row in rows.items()} == {
        "never_queued": State.SENT, "queued_recently": State.PENDING, "queued_long_ago": State.SENT,
        "claim_expired": State.SENT, "claimed_recently": State.SENDING, "failed": State.FAILED, "sent": State.SENT,
        "skipped": State.SKIPPED, "retry_later": State.PENDING,
    }
    assert sorted(m.to[0] for m in mailoutbox) == sorted(rows[name].email for name in pumped)


def test_pump_queues_a_row_again_once_its_backoff_and_requeue_delay_are_over(draft, mailoutbox, flaky, outbox_config):
    flaky.failures = 1
    row = record(draft)
    deliver([row.pk])  # fails once: pending, queued now, next attempt in a minute
    row = fresh(row)
    assert pump(now=row.next_attempt_at) == 0  # the task woken after the backoff does it…
    later = row.enqueued_at + dt.timedelta(seconds=301)
    assert pump(now=later) == 1  # …or, if that task was lost, the dispatcher
    assert fresh(row).enqueued_at == later
    # (the eager task ran with the real clock, before the backoff ended; a worker then sends it)
    assert deliver([row.pk], now=later) == DeliveryResult(sent=1)
    assert len(mailoutbox) == 1


def test_pump_takes_at_most_max_per_tick_oldest_due_first(draft, mailoutbox, settings):
    settings.NOTIFICATIONS = {**django_settings.NOTIFICATIONS, "MAX_PER_TICK": 2}
    now = timezone.now()
    rows = [record(draft, recipient=UserFactory(), now=now) for _ in range(3)]
    for offset, row in zip((3, 1, 2), rows, strict=True):
        Notification.objects.filter(pk=row.pk).update(enqueued_at=None, due_at=now - offset * MINUTE)
    assert pump(now=now) == 2
    assert states(*rows) == [State.SENT, State.PENDING, State.SENT]


def test_a_broker_that_is_down_loses_nothing(draft, mailoutbox, monkeypatch):
    from iea.notifications import tasks

    def down(*args, **kwargs):
        raise ConnectionError("broker unreachable")

    monkeypatch.setattr(tasks.send_notifications, "delay", down)
    row = record(draft)
    Notification.objects.filter(pk=row.pk).update(enqueued_at=None)
    assert pump(now=timezone.now()) == 1
    assert (fresh(row).state, mailoutbox) == (State.PENDING, [])
    monkeypatch.undo()
    assert pump(now=timezone.now() + DAY) == 1
    assert fresh(row).state == State.SENT


# Dispatching -------------------------------------------------------------------------------------------------


@pytest.fixture
def test_schedule(draft):
    """A schedule due for the draft's PI, at step −7 d (the dispatcher records it)."""
    steps = ["-7d"]

    def find_due(now):
        for step in steps:
            yield Due(kind="withdrawn", target=draft, recipients=[Recipient.of(draft.pi)], occurrence=step,
                      due_at=now)

    kinds.SCHEDULES.append(find_due)
    yield steps
    kinds.SCHEDULES.remove(find_due)


def test_dispatch_records_a_due_message_once_across_ticks(test_schedule, draft, mailoutbox):
    now = timezone.now()
    first, second = dispatch(now=now), dispatch(now=now + MINUTE)
    assert ((first.recorded, first.queued), (second.recorded, second.queued)) == ((1, 1), (0, 0))
    assert list(Notification.objects.values_list("kind", "occurrence", "state")) == [("withdrawn", "-7d", State.SENT)]
    assert len(mailoutbox) == 1


def test_dispatch_never_brings_back_an_earlier_step(test_schedule, draft, mailoutbox):
    now = timezone.now()
    dispatch(now=now)
    test_schedule[:] = ["-14d"]  # the deadline moved later: the −14 d window again
    assert dispatch(now=now + MINUTE).recorded == 0
    test_schedule[:] = ["-1d"]
    assert dispatch(now=now + 2 * MINUTE).recorded == 1
    assert list(Notification.objects.order_by("pk").values_list("occurrence", flat=True)) == ["-7d", "-1d"]
    assert len(mailoutbox) == 2


def test_the_dispatch_task_takes_an_iso_moment(test_schedule, mailoutbox):
    from iea.notifications.tasks import dispatch_due

    assert dispatch_due.delay(timezone.now().isoformat()).get() == {"recorded": 1, "queued": 1}
    assert len(mailoutbox) == 1


def test_a_fresh_process_knows_the_tasks_by_their_pinned_names():
    """Queued messages, the beat schedule and ``domain.enqueue`` call the tasks by name: a web process, where
    Celery discovers nothing, has them from the app's start-up, under the names they always had."""
    code = ("import django; django.setup(); from celery import current_app; "
            "print(*sorted(name for name in current_app.tasks if name.startswith('iea.')))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                            env={**os.environ, "DJANGO_SETTINGS_MODULE": "iea.settings"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "iea.notifications.tasks.dispatch_due", "iea.notifications.tasks.send_notifications"]
    assert domain.SEND_TASK == "iea.notifications.tasks.send_notifications"


# Resending ---------------------------------------------------------------------------------------------------


def test_staff_resend_a_sent_message_as_a_new_row(draft, staff, mailoutbox, django_capture_on_commit_callbacks):
    original = record(draft)
    deliver([original.pk])
    now = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        copy = notification_resend(notification_id=original.pk, user=staff, now=now)
    copy = fresh(copy)
    assert (copy.resend_of, copy.kind, copy.target, copy.email, copy.state) == (
        original, "withdrawn", draft, draft.pi.email, State.SENT)
    assert copy.occurrence == f"resend {now.isoformat()}"[:64]
    assert fresh(original).state == State.SENT  # the original keeps its history
    assert [m.to for m in mailoutbox] == [[draft.pi.email], [draft.pi.email]]
    assert mailoutbox[0].extra_headers["Message-ID"] != mailoutbox[1].extra_headers["Message-ID"]
    [entry] = AuditEntry.objects.filter(action="notification.resend")
    assert (entry.target, entry.actor, entry.data) == (
        original, staff, {"resend": copy.pk, "kind": "withdrawn", "email": draft.pi.email})


def test_failed_and_skipped_messages_can_be_resent(draft, staff):
    failed, skipped = record(draft), record(draft, occurrence="2")
    Notification.objects.filter(pk=failed.pk).update(state=State.FAILED)
    Notification.objects.filter(pk=skipped.pk).update(state=State.SKIPPED)
    for row in (failed, skipped):
        assert notification_resend(notification_id=row.pk, user=staff, now=timezone.now()).resend_of == row
    assert Notification.objects.filter(resend_of__isnull=False).count() == 2


@pytest.mark.parametrize("state", [State.PENDING, State.SENDING])
def test_a_message_still_waiting_cannot_be_resent(draft, staff, state, mailoutbox):
    row = record(draft)
    Notification.objects.filter(pk=row.pk).update(state=state)
    with pytest.raises(NotificationError) as refused:
        notification_resend(notification_id=row.pk, user=staff, now=timezone.now())
    assert refused.value.code == "pending"
    assert (Notification.objects.count(), AuditEntry.objects.filter(action="notification.resend").count()) == (1, 0)


def send_account_mail(django_capture_on_commit_callbacks, *, to: str, link: str):
    with django_capture_on_commit_callbacks(execute=True):
        notify_account_mail(subject="Reset your password", body=f"Follow {link} to choose a new password.",
                            html=f'<a href="{link}">Reset</a>', from_email="noreply@iea.example", to=[to],
                            now=timezone.now())
    return Notification.objects.get(kind="account", email=to)


def test_account_mail_is_sent_then_forgotten(pi, mailoutbox, django_capture_on_commit_callbacks):
    link = "https://iea.example/accounts/password/reset/key/secret-once/"
    row = send_account_mail(django_capture_on_commit_callbacks, to=pi.email, link=link)
    assert (row.state, row.target, row.subject) == (State.SENT, None, "Reset your password")
    assert (row.body, row.params) == ("", {})
    [message] = mailoutbox
    assert link in message.body
    assert link in message.alternatives[0][0]
    host = urlsplit(django_settings.SITE_URL).hostname
    assert message.extra_headers["Message-ID"] == f"<notification-{row.pk}@{host}>"


def test_account_mail_cannot_be_resent(pi, staff, mailoutbox, django_capture_on_commit_callbacks):
    row = send_account_mail(django_capture_on_commit_callbacks, to=pi.email, link="https://iea.example/k/1/")
    with pytest.raises(NotificationError) as refused:
        notification_resend(notification_id=row.pk, user=staff, now=timezone.now())
    assert refused.value.code == "not_resendable"
    assert Notification.objects.count() == 1
    assert len(mailoutbox) == 1


def test_failed_account_mail_keeps_no_one_time_link(pi, mailoutbox, flaky, outbox_config,
                                                    django_capture_on_commit_callbacks):
    """It will never be sent and cannot be resent: its link is not kept either."""
    flaky.failures = -1
    row = send_account_mail(django_capture_on_commit_callbacks, to=pi.email, link="https://iea.example/k/2/")
    assert "https://iea.example/k/2/" in row.params["body"]  # kept while it may still go out
    for _attempt in range(2):
        deliver([row.pk], now=fresh(row).next_attempt_at)
    row = fresh(row)
    assert (row.state, row.body, row.params) == (State.FAILED, "", {})
    assert mailoutbox == []


# Reminder steps ----------------------------------------------------------------------------------------------


def test_parse_offsets_sorts_and_deduplicates():
    assert parse_offsets("-7, -14,-1,-7") == [-14, -7, -1]
    assert parse_offsets(" +1,-2 , ") == [-2, 1]
    assert parse_offsets("") == []
    assert parse_offsets(None) == []
    with pytest.raises(ValueError):
        parse_offsets("-7,soon")


def test_step_labels_read_back():
    assert [step_label(offset) for offset in (-14, 0, 3)] == ["-14d", "+0d", "+3d"]
    assert [parse_step(step_label(offset)) for offset in (-14, 0, 3)] == [-14, 0, 3]
    assert [parse_step(text) for text in ("", "7d", "-d", "-7", "resend 2025-01-01", "-7x")] == [None] * 6


DEADLINE = dt.datetime(2025, 6, 30, 12, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize(("offsets", "now", "expected"), [
    # only steps before the deadline
    ([-14, -7, -1], DEADLINE - 15 * DAY, None),
    ([-14, -7, -1], DEADLINE - 14 * DAY - SECOND, None),
    ([-14, -7, -1], DEADLINE - 14 * DAY, -14),
    ([-14, -7, -1], DEADLINE - 7 * DAY - SECOND, -14),
    ([-14, -7, -1], DEADLINE - 7 * DAY, -7),
    ([-14, -7, -1], DEADLINE - DAY, -1),
    ([-14, -7, -1], DEADLINE - SECOND, -1),
    ([-14, -7, -1], DEADLINE, None),
    ([-14, -7, -1], DEADLINE + 30 * DAY, None),
    ([-7], DEADLINE - 3 * DAY, -7),
    ([-7], DEADLINE + SECOND, None),
    # steps after the deadline: the last one does not end
    ([1], DEADLINE + DAY - SECOND, None),
    ([1], DEADLINE + DAY, 1),
    ([1], DEADLINE + 400 * DAY, 1),
    ([1, 3], DEADLINE + 2 * DAY, 1),
    ([1, 3], DEADLINE + 3 * DAY, 3),
    ([0], DEADLINE, 0),
    ([0], DEADLINE + 10 * DAY, 0),
    # both (the review and report reminders): a step before the deadline lasts until the next one, even
    # past the deadline (the mail then says it is late); the step after it does not end
    ([-7, -2, 1], DEADLINE - 2 * DAY, -2),
    ([-7, -2, 1], DEADLINE + DAY - SECOND, -2),
    ([-7, -2, 1], DEADLINE + DAY, 1),
    ([-7, -2, 1], DEADLINE + 90 * DAY, 1),
    ([], DEADLINE, None),
])
def test_current_step_windows(offsets, now, expected):
    step = current_step(offsets, DEADLINE, now)
    assert (step[0] if step else None) == expected
    if step:
        assert step[1] == DEADLINE + dt.timedelta(days=step[0])


def test_current_step_does_not_need_sorted_offsets():
    assert current_step([-1, -14, -7], DEADLINE, DEADLINE - 10 * DAY) == (-14, DEADLINE - 14 * DAY)
