"""The outbox's faster recovery (#13), rule by rule: the heartbeat that keeps a live batch's claim (so a
dead worker's claim can time out in a minute), the timing rule that keeps a message from going out twice,
the early re-queue of rows whose message is not in the broker's empty queue, and the defaults' recovery.

Transactional: the heartbeat is a thread with its own database connection, which must see the rows."""

import datetime as dt
import time
import uuid

import pytest
from django.conf import settings as django_settings
from django.contrib.contenttypes.models import ContentType
from django.core.mail.backends.locmem import EmailBackend
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.utils import timezone

from iea.celery import app
from iea.notifications import domain
from iea.notifications.domain import DeliveryResult, deliver, pump
from iea.notifications.lease import Lease
from iea.notifications.models import Notification, NotificationState
from iea.notifications.timing import timing_problems
from tests.redis_servers import app_on

pytestmark = pytest.mark.django_db(transaction=True)

State = NotificationState
WAIT = 10  # seconds: the deadline of a wait (a failure when reached, not a pause)


def row_of(proposal, **fields) -> Notification:
    now = timezone.now()
    return Notification.objects.create(
        kind="withdrawn", content_type=ContentType.objects.get_for_model(proposal), object_id=proposal.pk,
        email=proposal.pi.email, occurrence=uuid.uuid4().hex, due_at=now, created_at=now, **fields)


def claimed_at(row) -> dt.datetime:
    return Notification.objects.values_list("claimed_at", flat=True).get(pk=row.pk)


def wait_for(condition, what: str):
    deadline = time.monotonic() + WAIT
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.01)


class BackendWaitingForARenewal(EmailBackend):
    """An SMTP server slower than a heartbeat: the send returns once the row's claim was renewed meanwhile
    (by the heartbeat: the batch's own thread is here)."""

    def send_messages(self, messages):
        row = Notification.objects.get(state=State.SENDING)
        wait_for(lambda: claimed_at(row) > row.claimed_at, "the heartbeat to renew the claim")
        return super().send_messages(messages)


@pytest.fixture
def fast_heartbeat(settings):
    settings.NOTIFICATIONS = {**settings.NOTIFICATIONS, "CLAIM_TIMEOUT": 60, "HEARTBEAT": 0.05, "CLAIM_MARGIN": 10}
    settings.EMAIL_TIMEOUT = 30
    return settings.NOTIFICATIONS


def test_the_heartbeat_renews_the_claim_while_a_message_is_being_sent(draft, settings, fast_heartbeat, mailoutbox):
    settings.EMAIL_BACKEND = f"{__name__}.BackendWaitingForARenewal"
    row = row_of(draft)
    assert deliver([row.pk]) == DeliveryResult(sent=1)
    assert [m.to for m in mailoutbox] == [[draft.pi.email]]
    assert Notification.objects.get(pk=row.pk).state == State.SENT


def test_a_stopped_heartbeat_lets_the_claim_be_taken_over_after_the_timeout_and_not_before(draft, fast_heartbeat,
                                                                                          mailoutbox):
    """A worker that died: its heartbeat stopped with it. Its rows wait CLAIM_TIMEOUT after the last
    renewal, then another worker takes them (and counts the dead worker's attempt)."""
    claim, start = uuid.uuid4(), timezone.now()
    row = row_of(draft, state=State.SENDING, claim=claim, claimed_at=start)
    with Lease(claim, pks=[row.pk], claim_timeout=60, heartbeat=0.05, margin=10) as lease:
        wait_for(lambda: lease.renewals >= 2, "two renewals")
    last = claimed_at(row)
    assert last > start
    assert deliver([row.pk], now=last + dt.timedelta(seconds=59)) == DeliveryResult()  # still the dead one's
    assert claimed_at(row) == last and mailoutbox == []
    assert deliver([row.pk], now=last + dt.timedelta(seconds=61)) == DeliveryResult(sent=1)
    row.refresh_from_db()
    assert (row.state, row.attempts, len(mailoutbox)) == (State.SENT, 2, 1)


def test_a_batch_sends_only_on_a_renewal_recent_enough_to_outlast_the_send(draft, other_pi, settings):
    """No heartbeat for a while (the database was slow): before sending, the batch renews the claim itself,
    and a row another worker took over meanwhile is left to it."""
    settings.EMAIL_TIMEOUT = 30
    claim = uuid.uuid4()
    ours = row_of(draft, state=State.SENDING, claim=claim, claimed_at=timezone.now())
    taken = row_of(draft, state=State.SENDING, claim=claim, claimed_at=timezone.now())
    # CLAIM_TIMEOUT 60 − EMAIL_TIMEOUT 30 − margin 10: a renewal is good for 20 s of sending.
    lease = Lease(claim, pks=[ours.pk, taken.pk], claim_timeout=60, heartbeat=3600, margin=10, claimed_age=19)
    assert lease.holds(taken.pk) is True  # 19 s old: no renewal needed
    assert claimed_at(ours) == ours.claimed_at
    Notification.objects.filter(pk=taken.pk).update(claim=uuid.uuid4())  # another worker took it over
    lease.renewed = (time.monotonic() - 21, lease.renewed[1])  # 21 s without a renewal
    assert lease.holds(taken.pk) is False
    assert claimed_at(ours) > ours.claimed_at  # renewed first
    assert lease.holds(ours.pk) is True


def test_the_timing_rule_refuses_a_claim_timeout_shorter_than_a_send(settings):
    values = {"CLAIM_TIMEOUT": 60, "HEARTBEAT": 5, "CLAIM_MARGIN": 10}
    assert timing_problems(values, email_timeout=30) == []
    [problem] = timing_problems({**values, "CLAIM_TIMEOUT": 45}, email_timeout=30)
    assert "(5 + 30 + 10 = 45 s) must be less than NOTIFICATIONS_CLAIM_TIMEOUT (45 s)" in problem
    settings.EMAIL_TIMEOUT = None  # SMTP would wait for ever
    assert "EMAIL_TIMEOUT must be set" in timing_problems(values)[0]
    # Django's system checks, which migrate runs before the stack starts.
    settings.NOTIFICATIONS = {**settings.NOTIFICATIONS, **values, "CLAIM_TIMEOUT": 40}
    settings.EMAIL_TIMEOUT = 30
    with pytest.raises(SystemCheckError, match="notifications.E001"):
        call_command("check")


def test_the_defaults_keep_their_timing_rule_and_recover_within_two_minutes():
    values = django_settings.NOTIFICATIONS
    assert timing_problems() == []
    # A dead worker: its last heartbeat, CLAIM_TIMEOUT, then the next tick hands its rows to another.
    assert values["HEARTBEAT"] + values["CLAIM_TIMEOUT"] + values["TICK"] < 120
    # A broker restarted empty: REQUEUE_IDLE_AFTER after the rows were queued, then the next tick.
    assert values["REQUEUE_IDLE_AFTER"] + values["TICK"] < 120


@pytest.fixture
def queue():
    """This process's Celery app on kombu's in-memory broker, not eager, on a queue of the test's own."""
    name = f"lease-{uuid.uuid4().hex[:8]}"
    with app_on("memory://", name):
        yield name
        with app.connection_for_write() as broker:
            broker.default_channel.queue_purge(name)


def test_rows_queued_a_little_while_ago_are_queued_again_when_the_queue_is_empty(draft, settings, queue):
    settings.NOTIFICATIONS = {**settings.NOTIFICATIONS, "REQUEUE_AFTER": 600, "REQUEUE_IDLE_AFTER": 30}
    now = timezone.now()
    lost = row_of(draft, enqueued_at=now - dt.timedelta(seconds=31))
    recent = row_of(draft, enqueued_at=now - dt.timedelta(seconds=29))
    # Retried after a backoff that ended 10 s ago: the task woken then has its 30 s too.
    retrying = row_of(draft, enqueued_at=now - dt.timedelta(minutes=5), attempts=1,
                      next_attempt_at=now - dt.timedelta(seconds=10))
    assert domain.queue_is_empty() is True  # a queue never declared counts as empty
    assert pump(now=now) == 1
    assert Notification.objects.get(pk=lost.pk).enqueued_at == now
    assert {Notification.objects.get(pk=r.pk).enqueued_at for r in (recent, retrying)} == {
        recent.enqueued_at, retrying.enqueued_at}
    assert domain.queue_is_empty() is False  # the batch just queued


def test_under_a_backlog_only_the_long_delay_requeues(draft, settings, queue):
    """Messages wait in the queue: a row's may be among them, so it is not queued again before
    REQUEUE_AFTER (the ticks would otherwise pile copies of the same batches onto a busy queue)."""
    settings.NOTIFICATIONS = {**settings.NOTIFICATIONS, "REQUEUE_AFTER": 600, "REQUEUE_IDLE_AFTER": 30}
    app.send_task("iea.notifications.tasks.send_notifications", args=([0],))
    now = timezone.now()
    waiting = row_of(draft, enqueued_at=now - dt.timedelta(seconds=300))
    long_ago = row_of(draft, enqueued_at=now - dt.timedelta(seconds=601))
    assert domain.queue_is_empty() is False
    assert pump(now=now) == 1
    assert (Notification.objects.get(pk=waiting.pk).enqueued_at, Notification.objects.get(pk=long_ago.pk).enqueued_at
            ) == (waiting.enqueued_at, now)


def test_a_request_does_not_wait_on_a_broker_that_just_failed_but_the_tick_tries_it(draft, monkeypatch):
    from iea.notifications import tasks

    calls = []

    def down(ids):
        calls.append(ids)
        raise ConnectionError("broker unreachable")

    monkeypatch.setattr(tasks.send_notifications, "delay", down)
    domain.enqueue([1])
    domain.enqueue([2])  # a request meanwhile: not tried
    domain.enqueue([3], background=True)  # the dispatcher's tick: tried
    assert calls == [[1], [3]]


def test_a_batch_inside_a_transaction_keeps_its_rows_without_a_heartbeat(draft, fast_heartbeat, mailoutbox):
    """``deliver`` called inside a transaction (eager tasks in a test, a script): the claim is not committed,
    so the heartbeat's own connection would see none of the rows and the batch would give them all up as
    lost after the first beat (the demo's first tick lost half its reminders when it took over 5 s)."""
    from django.db import transaction

    claim = uuid.uuid4()
    with transaction.atomic():
        rows = [row_of(draft, state=State.SENDING, claim=claim, claimed_at=timezone.now()) for _ in range(2)]
        with Lease(claim, pks=[row.pk for row in rows], claim_timeout=60, heartbeat=0.01, margin=10) as lease:
            time.sleep(0.05)  # several heartbeats' worth: none runs
            assert lease.renewals == 0
            assert [lease.holds(row.pk) for row in rows] == [True, True]
            lease.renewed = (time.monotonic() - 21, lease.renewed[1])  # a renewal is due: in this connection
            assert lease.holds(rows[1].pk) is True
            assert claimed_at(rows[1]) > rows[1].claimed_at
