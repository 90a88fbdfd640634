"""The outbox's domain: record, dispatch, deliver and resend messages.

- ``notify`` (``notify_all`` for several) records messages in the caller's transaction and queues them once
  it commits.
- ``dispatch`` (Celery beat, every few minutes) records the reminders the schedules find due and queues
  every row still waiting — a lost message or a missed tick is caught by the next tick.
- ``deliver`` (the worker) claims rows, asks each one's kind whether it still applies, renders it in the
  recipient's language, sends it and marks it sent; SMTP errors are retried with backoff, and a message
  that fails its last attempt is left ``failed`` for staff to see and resend in the admin.
"""

import contextlib
import datetime as dt
import logging
import smtplib
import time
from collections import defaultdict
from dataclasses import dataclass
from urllib.parse import urlsplit

from celery import current_app
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.mail import get_connection
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from iea import mail
from iea.audit.domain import audit_record
from iea.bulk import insert_all
from iea.errors import DomainError
from iea.roles import is_directorate

from .kinds import KINDS, SCHEDULES, Due, Recipient, parse_step
from .lease import Lease
from .models import Notification, NotificationState

log = logging.getLogger(__name__)

State = NotificationState
SEND_ERRORS = (smtplib.SMTPException, OSError)


class NotificationError(DomainError):
    pass


@dataclass(frozen=True)
class Config:
    claim_timeout: dt.timedelta
    heartbeat: float  # seconds
    claim_margin: float  # seconds
    requeue_after: dt.timedelta
    requeue_idle_after: dt.timedelta
    max_attempts: int
    retry_base: dt.timedelta
    batch_size: int
    max_per_tick: int


def config() -> Config:
    values = settings.NOTIFICATIONS
    return Config(
        claim_timeout=dt.timedelta(seconds=values["CLAIM_TIMEOUT"]),
        heartbeat=values["HEARTBEAT"],
        claim_margin=values["CLAIM_MARGIN"],
        requeue_after=dt.timedelta(seconds=values["REQUEUE_AFTER"]),
        requeue_idle_after=dt.timedelta(seconds=values["REQUEUE_IDLE_AFTER"]),
        max_attempts=values["MAX_ATTEMPTS"],
        retry_base=dt.timedelta(seconds=values["RETRY_BASE"]),
        batch_size=values["BATCH_SIZE"],
        max_per_tick=values["MAX_PER_TICK"],
    )


def retry_delay(attempts: int, base: dt.timedelta) -> dt.timedelta:
    """Exponential backoff after the ``attempts``-th failure: base, 2×base, 4×base… at most a day."""
    return min(base * (2 ** max(attempts - 1, 0)), dt.timedelta(days=1))


# --- recording --------------------------------------------------------------------------------------

def notify(
    *, kind: str, target, recipients: list[Recipient], now: dt.datetime, occurrence: str = "",
    due_at: dt.datetime | None = None, params: dict | None = None,
) -> None:
    """Record one message per recipient, in the caller's transaction; they are queued once it commits.

    Recording the same (kind, object, recipient, occurrence) again records nothing.
    """
    notify_all(dues=[Due(kind=kind, target=target, recipients=recipients, occurrence=occurrence, due_at=due_at or now,
                         params=params or {})], now=now)


def notify_all(*, dues: list[Due], now: dt.datetime) -> None:
    """``notify`` for many messages at once (the invitations of a panel's automatic assignment, a submission's receipts to the PI and the partner): a few
    queries for all of them, not a few per message. Same rules: recorded in the caller's transaction, queued
    once it commits, a message already on record is not recorded again."""
    unknown = {due.kind for due in dues} - KINDS.keys()
    if unknown:
        raise ValueError(f"Unknown kind of notification {sorted(unknown)[0]!r}.")
    ids = _record(dues, now=now, enqueued=True)
    if ids:
        transaction.on_commit(lambda: enqueue(ids))


def _record(dues: list[Due], *, now: dt.datetime, enqueued: bool) -> list[int]:
    """Insert the rows not on record yet; return the ids of those inserted (by this call or a racing one)."""
    rows: dict[tuple, Notification] = {}
    for due in dues:
        content_type = ContentType.objects.get_for_model(due.target) if due.target is not None else None
        for recipient in due.recipients:
            if not recipient.email:
                continue
            key = (due.kind, content_type.pk if content_type else None,
                   due.target.pk if due.target is not None else None, recipient.email.lower(), due.occurrence[:64])
            rows.setdefault(key, Notification(  # ids rather than objects: thousands at a time for some changes
                kind=due.kind, content_type_id=key[1], object_id=key[2], occurrence=key[4],
                recipient_id=recipient.user.pk if recipient.user is not None else None, email=key[3],
                language=recipient.language or settings.LANGUAGE_CODE,
                params=due.params, due_at=due.due_at, created_at=now, enqueued_at=now if enqueued else None,
            ))
    if not rows:
        return []
    existing = _existing_keys(rows)
    latest_step = _latest_steps(existing)
    fresh = [row for key, row in rows.items() if key not in existing and not _superseded(key, latest_step)]
    if not fresh:
        return []
    insert_all(fresh, ignore_conflicts=True)
    return _ids_of(fresh, now=now)


def _key_filter(keys) -> dict:
    """Group keys by content type, so that the lookups are one query per model: {content type: (kinds, object ids)}.
    A model's keys all have an object; the keys without a content type are those without one."""
    groups = defaultdict(lambda: (set(), set()))
    for kind, content_type_id, object_id, _email, _occurrence in keys:
        kinds, object_ids = groups[content_type_id]
        kinds.add(kind)
        object_ids.add(object_id)
    return groups


def _existing_keys(rows: dict) -> set:
    found = set()
    for content_type_id, (kinds, object_ids) in _key_filter(rows).items():
        object_ids = sorted(i for i in object_ids if i is not None)
        for start in range(0, max(len(object_ids), 1), 2000):
            query = Notification.objects.filter(kind__in=kinds, content_type_id=content_type_id)
            query = query.filter(object_id__in=object_ids[start:start + 2000]) if object_ids else query.filter(
                object_id__isnull=True, email__in=[key[3] for key in rows if key[0] in kinds and key[1] == content_type_id])
            found.update(query.values_list("kind", "content_type_id", "object_id", "email", "occurrence"))
    return found


def _latest_steps(existing: set) -> dict:
    """The latest reminder step on record per (kind, object, recipient)."""
    latest = {}
    for kind, content_type_id, object_id, email, occurrence in existing:
        offset = parse_step(occurrence)
        if offset is not None:
            key = (kind, content_type_id, object_id, email)
            latest[key] = max(offset, latest.get(key, offset))
    return latest


def _superseded(key: tuple, latest_step: dict) -> bool:
    """Reminder steps only move forward: once the D−7 reminder went out, a deadline moved later does not
    bring back the D−14 one."""
    offset = parse_step(key[4])
    recorded = latest_step.get(key[:4])
    return offset is not None and recorded is not None and recorded > offset


def _ids_of(rows: list[Notification], *, now: dt.datetime) -> list[int]:
    wanted = {(r.kind, r.content_type_id, r.object_id, r.email, r.occurrence) for r in rows}
    ids = []
    for content_type_id, (kinds, object_ids) in _key_filter(wanted).items():
        object_ids = sorted(i for i in object_ids if i is not None)
        for start in range(0, max(len(object_ids), 1), 2000):
            query = Notification.objects.filter(kind__in=kinds, content_type_id=content_type_id, created_at=now)
            query = query.filter(object_id__in=object_ids[start:start + 2000]) if object_ids else query.filter(
                object_id__isnull=True)
            for pk, *key in query.values_list("pk", "kind", "content_type_id", "object_id", "email", "occurrence"):
                if tuple(key) in wanted:
                    ids.append(pk)
    return sorted(ids)


# After a failed publish, this process does not try the broker again for this long: a request that records
# several messages while the broker is down waits for one bounded attempt (settings: the publish retry
# policy and socket timeouts), not one per message.
BROKER_BACKOFF = 10.0  # seconds
_broker_down_until: dict[str, float] = {}  # broker URL → monotonic time

# The sending task, by the name ``tasks.py`` pins: the tasks call this module, so this module finds the task in
# Celery's registry rather than importing it back (the app's ``ready()`` registers it in every process).
SEND_TASK = "iea.notifications.tasks.send_notifications"


def _send_task():
    return current_app.tasks[SEND_TASK]


def enqueue(ids: list[int], *, background: bool = False) -> None:
    """Hand the rows to the workers, in batches. A broker that is down loses nothing: the rows stay
    pending and the dispatcher queues them again (``pump``). ``background`` (the dispatcher's tick, no one
    waiting on it): try the broker even if it was down a moment ago."""
    send_notifications = _send_task()
    broker = send_notifications.app.conf.broker_url
    if not ids or (not background and time.monotonic() < _broker_down_until.get(broker, 0.0)):
        return
    size = config().batch_size
    for start in range(0, len(ids), size):
        try:
            send_notifications.delay(ids[start:start + size])
        except Exception as error:  # the broker is unreachable: the next ticks will queue them
            _broker_down_until[broker] = time.monotonic() + BROKER_BACKOFF
            log.warning("notifications: could not queue %d message(s), the dispatcher will (%s: %s)",
                        len(ids[start:]), type(error).__name__, error)
            return


# --- dispatching ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class DispatchResult:
    recorded: int
    queued: int


def dispatch(*, now: dt.datetime) -> DispatchResult:
    """One tick: record what the schedules find due, then queue every row waiting to be sent."""
    recorded = 0
    for find_due in SCHEDULES:
        with transaction.atomic():
            recorded += len(_record(list(find_due(now)), now=now, enqueued=False))
    queued = pump(now=now)
    if recorded or queued:
        log.info("notifications: %d recorded, %d queued", recorded, queued)
    return DispatchResult(recorded=recorded, queued=queued)


def _claimable(now: dt.datetime, cfg: Config) -> Q:
    ready = Q(state=State.PENDING) & (Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
    abandoned = Q(state=State.SENDING, claimed_at__lt=now - cfg.claim_timeout)
    return ready | abandoned


def pump(*, now: dt.datetime) -> int:
    """Queue the rows waiting to be sent that no worker has in hand: never queued; queued longer ago than
    ``REQUEUE_AFTER`` (the message may have been lost with a broker restart), or than ``REQUEUE_IDLE_AFTER``
    when the workers' queue is empty (then its message is not waiting there: it was lost, or a worker holds
    it and will find the row claimed); or claimed by a worker that died (``CLAIM_TIMEOUT``). Queuing a row
    twice is harmless: only one worker can claim it. Under a backlog the queue is not empty, and only the
    long delay applies, so the ticks do not pile copies of the same batches onto it."""
    cfg = config()
    claimable = _claimable(now, cfg)
    wanted = Q(enqueued_at__isnull=True) | Q(enqueued_at__lt=now - cfg.requeue_after) | Q(state=State.SENDING)
    idle = now - cfg.requeue_idle_after
    # A row retried after a backoff has a task due then (``tasks.send_notifications``): it gets its delay too.
    maybe_lost = Q(enqueued_at__lt=idle) & (Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lt=idle))
    if Notification.objects.filter(claimable & maybe_lost & ~wanted).exists() and queue_is_empty():
        wanted |= maybe_lost
    ids = list(
        Notification.objects.filter(claimable & wanted)
        .order_by("due_at", "pk").values_list("pk", flat=True)[:cfg.max_per_tick]
    )
    for start in range(0, len(ids), 1000):
        Notification.objects.filter(pk__in=ids[start:start + 1000]).update(enqueued_at=now)
    enqueue(ids, background=True)
    return len(ids)


def queue_is_empty() -> bool:
    """Whether the workers' queue holds no message (a queue that does not exist holds none). False when the
    broker cannot say, and with eager tasks (no broker)."""
    app = _send_task().app
    if app.conf.task_always_eager:
        return False
    try:
        with app.connection_for_read() as broker:
            try:
                declared = broker.default_channel.queue_declare(queue=app.conf.task_default_queue, passive=True)
            except broker.channel_errors:  # "no such queue" (redis, memory, filesystem, AMQP)
                return True
            return declared.message_count == 0
    except Exception as error:
        log.warning("notifications: could not count the messages in the queue (%s: %s)", type(error).__name__, error)
        return False


# --- delivering -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class DeliveryResult:
    sent: int = 0
    skipped: int = 0
    retrying: int = 0
    failed: int = 0
    lost: int = 0  # claimed by another worker while this one was busy with the rest of the batch
    retry_in: dt.timedelta | None = None


def deliver(ids: list[int], *, now: dt.datetime | None = None) -> DeliveryResult:
    """Claim the rows, send each, mark each sent as soon as it has gone (a crash resends at most the one
    message in flight, and only after ``CLAIM_TIMEOUT``). A heartbeat renews the claim while the batch runs
    (``lease.Lease``)."""
    now = now or timezone.now()
    cfg = config()
    claim = Notification.new_claim()
    # A row whose worker died while sending it counts that as an attempt: a message that crashes the
    # worker every time (a poison message) ends failed, visible to staff, instead of looping for ever.
    Notification.objects.filter(pk__in=ids, state=State.SENDING, claimed_at__lt=now - cfg.claim_timeout).update(
        state=State.SENDING, claim=claim, claimed_at=now, attempts=F("attempts") + 1,
        last_error=_("The worker stopped while sending this message (crash or restart)."))
    Notification.objects.filter(pk__in=ids).filter(_claimable(now, cfg)).update(
        state=State.SENDING, claim=claim, claimed_at=now)
    rows = list(Notification.objects.filter(claim=claim, state=State.SENDING).select_related("recipient").order_by("pk"))
    if not rows:
        return DeliveryResult()
    targets = _load_targets(rows)
    counts = defaultdict(int)
    retry_in = None
    lease = Lease(claim, pks=[row.pk for row in rows], claim_timeout=cfg.claim_timeout.total_seconds(),
                  heartbeat=cfg.heartbeat, margin=cfg.claim_margin,
                  claimed_age=(timezone.now() - now).total_seconds())
    connection = get_connection()
    _open(connection)
    try:
        with lease:
            for row in rows:
                outcome, delay = _deliver_one(row, targets, claim=claim, lease=lease, connection=connection, cfg=cfg)
                counts[outcome] += 1
                if delay is not None:
                    retry_in = delay if retry_in is None else min(retry_in, delay)
                if outcome in ("retrying", "failed"):
                    _open(connection)  # the session may be what failed: the next message gets a new one
    finally:
        with contextlib.suppress(SEND_ERRORS):
            connection.close()
    return DeliveryResult(retry_in=retry_in, **counts)


def _open(connection) -> None:
    """One SMTP session for the batch (Django's backend opens and closes one per message unless it is
    opened first). A server that is down fails the sends themselves, which are retried."""
    with contextlib.suppress(SEND_ERRORS):
        connection.close()
    with contextlib.suppress(SEND_ERRORS):
        connection.open()


def _load_targets(rows: list[Notification]) -> dict:
    wanted = defaultdict(set)
    for row in rows:
        kind = KINDS.get(row.kind)
        if kind is not None and kind.model is not None and row.object_id is not None:
            wanted[row.kind].add(row.object_id)
    targets = {}
    for name, object_ids in wanted.items():
        kind = KINDS[name]
        found = (kind.model._default_manager.select_related(*kind.select_related)
                 .prefetch_related(*kind.prefetch_related).in_bulk(sorted(object_ids)))
        targets.update({(name, pk): obj for pk, obj in found.items()})
    return targets


def _deliver_one(row: Notification, targets: dict, *, claim, lease: Lease, connection, cfg: Config):
    kind = KINDS.get(row.kind)
    now = timezone.now()
    if kind is None:
        _finish(row, claim, state=State.FAILED, last_error=_("Unknown kind of message %(kind)s.") % {"kind": row.kind})
        return "failed", None
    if row.attempts >= cfg.max_attempts:
        return _failed(row, claim, error=RuntimeError(row.last_error), cfg=cfg, now=now, attempts=row.attempts)
    target = targets.get((row.kind, row.object_id)) if kind.model is not None else None
    if kind.model is not None and target is None:
        _finish(row, claim, state=State.SKIPPED, last_error=_("The object of this message no longer exists."))
        return "skipped", None
    reason = kind.skip(target, row, now) if kind.skip else ""
    if reason:
        _finish(row, claim, state=State.SKIPPED, last_error=str(reason))
        return "skipped", None
    # Send only what is still ours, and only while the claim outlasts the send (lease.py: never twice).
    if not lease.holds(row.pk):
        return "lost", None
    try:
        message = build(kind, target, row)
        if connection.send_messages([message]) != 1:
            raise smtplib.SMTPException("The mail backend did not send the message.")
    except Exception as error:  # rendering or sending: retried, then failed and shown to staff
        return _failed(row, claim, error=error, cfg=cfg, now=now)
    _finish(row, claim, state=State.SENT, sent_at=timezone.now(), attempts=F("attempts") + 1, last_error="",
            subject=message.subject[:300], body="" if not kind.resendable else message.body,
            params={} if not kind.resendable else row.params)
    return "sent", None


def loggable_error(error: Exception) -> str:
    """What a log line may say of a failed send: the SMTP code and the refused addresses, the system's
    error, else only the exception's type. Never its text: a server's content filter quotes the message
    (its one-time link), and a rendering error may quote the parameters. ``last_error`` keeps the text,
    for staff."""
    name = type(error).__name__
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return f"{name}: {', '.join(sorted(error.recipients))}"
    if isinstance(error, smtplib.SMTPResponseException):
        return f"{name}: {error.smtp_code}"
    if isinstance(error, OSError) and error.errno is not None:
        return f"{name}: [Errno {error.errno}] {error.strerror}"
    return name


def _failed(row: Notification, claim, *, error: Exception, cfg: Config, now: dt.datetime, attempts: int | None = None):
    attempts = row.attempts + 1 if attempts is None else attempts
    text = f"{type(error).__name__}: {error}"[:2000]
    if attempts >= cfg.max_attempts:
        log.error("notifications: #%s (%s to %s) failed for good after %d attempts: %s",
                  row.pk, row.kind, row.email, attempts, loggable_error(error))
        kind = KINDS.get(row.kind)
        # A message that cannot be resent will never go out now: its one-time link is not kept either.
        forget = {"params": {}, "body": ""} if kind is not None and not kind.resendable else {}
        with transaction.atomic():
            if _finish(row, claim, state=State.FAILED, attempts=attempts, last_error=text, **forget):
                audit_record(actor=None, target=row, action="notification.failed", now=now,
                             from_state=State.SENDING, to_state=State.FAILED, reason=text,
                             actor_label="mail dispatcher")
        return "failed", None
    delay = retry_delay(attempts, cfg.retry_base)
    log.warning("notifications: #%s (%s to %s) attempt %d failed, retrying in %s: %s",
                row.pk, row.kind, row.email, attempts, delay, loggable_error(error))
    _finish(row, claim, state=State.PENDING, attempts=attempts, last_error=text, next_attempt_at=now + delay,
            enqueued_at=now)
    return "retrying", delay


def _finish(row: Notification, claim, **fields) -> bool:
    """Record the outcome, only if the claim is still ours (a row reclaimed after a timeout is not)."""
    return Notification.objects.filter(pk=row.pk, claim=claim, state=State.SENDING).update(**fields) == 1


def build(kind, target, row: Notification):
    """The message of one row, in the recipient's current language."""
    language = row.recipient.language if row.recipient_id and row.recipient else row.language
    row.language = language  # what the kind's context and attachments read
    if kind.build is not None:
        message = kind.build(target, row)
    else:
        with translation.override(language):
            context = {**kind.context(target, row), "notification": row, "recipient": row.recipient}
            attachments = kind.attachments(target, row) if kind.attachments else ()
            headers = kind.headers(target, row) if kind.headers else {}
        message = mail.build_message(name=kind.template, to=[row.email], language=language, context=context,
                                attachments=attachments, headers=headers)
    host = urlsplit(settings.SITE_URL).hostname or "iea.localhost"
    # One Message-ID per row: a receiving system can tell a resend after a crash from a new message.
    message.extra_headers.setdefault("Message-ID", f"<notification-{row.pk}@{host}>")
    return message


# --- staff ------------------------------------------------------------------------------------------

def resend_refusal(notification: Notification) -> NotificationError | None:
    """Why this message cannot be sent again, or None (the admin asks it to offer the button)."""
    kind = KINDS.get(notification.kind)
    if kind is None or not kind.resendable:
        return NotificationError(
            _("Account messages carry one-time links and cannot be resent; the person can ask for a new one."),
            code="not_resendable")
    if notification.state in (State.PENDING, State.SENDING):
        return NotificationError(_("This message is still waiting to be sent."), code="pending")
    return None


def notification_resend(*, notification_id: int, user, now: dt.datetime) -> Notification:
    """Staff send a recorded message again: a new row (the original keeps its history), same content,
    rendered afresh, audited."""
    with transaction.atomic():
        original = Notification.objects.select_for_update().get(pk=notification_id)
        refusal = resend_refusal(original)
        if refusal:
            raise NotificationError(refusal.message, code=refusal.code)
        copy = Notification.objects.create(
            kind=original.kind, content_type=original.content_type, object_id=original.object_id,
            occurrence=f"resend {now.isoformat()}"[:64], recipient=original.recipient, email=original.email,
            language=original.language, params=original.params, due_at=now, created_at=now, enqueued_at=now,
            resend_of=original,
        )
        audit_record(actor=user, target=original, action="notification.resend", now=now,
                     data={"resend": copy.pk, "kind": original.kind, "email": original.email})
        transaction.on_commit(lambda: enqueue([copy.pk]))
    return copy


# --- a reminder sent now, by hand ------------------------------------------------------------------------------

MANUAL = "manual-"


def manual_occurrence(now: dt.datetime) -> str:
    """The occurrence of a reminder staff send by hand: ``manual-<YYYYMMDDTHHMM>`` (UTC). Not a step
    (``parse_step`` reads only "±Nd"): the schedule's steps neither count it nor are held back by it."""
    return f"{MANUAL}{now.astimezone(dt.UTC):%Y%m%dT%H%M}"


@dataclass(frozen=True)
class PlannedReminder:
    """One message a manual reminder would send: its due (kind and object), the recipient, and why it will
    not go out ('' if it will)."""

    due: Due
    recipient: Recipient
    skipped: str = ""


def remind_plan(*, dues: list[Due], now: dt.datetime) -> list[PlannedReminder]:
    """Each recipient of each due, skipped for the reason its kind gives (``Kind.skip``: the review came in,
    the report was submitted, the PI answered…), or for want of an address. Writes nothing."""
    plan = []
    for due in dues:
        kind = KINDS[due.kind]
        reason = kind.skip(due.target, None, now) if kind.skip else ""
        for recipient in due.recipients:
            plan.append(PlannedReminder(due=due, recipient=recipient,
                                        skipped=reason or ("" if recipient.email else _("No e-mail address."))))
    return plan


def remind_now(*, dues: list[Due], user, now: dt.datetime) -> list[PlannedReminder]:
    """Staff send the reminder of each due now, outside the schedule: the kind's own message to each
    recipient not skipped (``remind_plan``), recorded with the occurrence ``manual_occurrence(now)`` — the same
    click twice in a minute records nothing twice — and queued once the transaction commits; one audit entry
    ``notification.remind`` per object reminded. Returns the plan, skipped ones included."""
    if user is None or not is_directorate(user):
        raise NotificationError(_("Only directorate staff send reminders by hand."), code="forbidden")
    plan = remind_plan(dues=dues, now=now)
    occurrence = manual_occurrence(now)
    sent = [planned for planned in plan if not planned.skipped]
    with transaction.atomic():
        notify_all(dues=[Due(kind=planned.due.kind, target=planned.due.target, recipients=[planned.recipient],
                             occurrence=occurrence, due_at=now) for planned in sent], now=now)
        by_target: dict[tuple, list[PlannedReminder]] = defaultdict(list)
        for planned in sent:
            by_target[(planned.due.kind, type(planned.due.target), planned.due.target.pk)].append(planned)
        for (kind, _model, _pk), reminded in by_target.items():
            audit_record(actor=user, target=reminded[0].due.target, action="notification.remind", now=now,
                         data={"kind": kind, "occurrence": occurrence,
                               "emails": [planned.recipient.email for planned in reminded]})
    return plan


# --- what needs staff's attention ----------------------------------------------------------------------------

ATTENTION = ("failed", "late")


def attention_q(kind: str, *, now: dt.datetime) -> Q:
    """The messages that need staff's attention (the admin's *follow-up* filter, the back office's dashboard):
    ``failed`` — failed and not resent; ``late`` — not sent ``LATE_AFTER`` after their due time (minutes, not
    hours: a PI waits for a receipt on deadline day), or claimed by a worker that died with them."""
    if kind == "failed":
        return Q(state=State.FAILED, resends__isnull=True)
    values = settings.NOTIFICATIONS
    waiting = Q(state__in=[State.PENDING, State.SENDING], due_at__lt=now - dt.timedelta(seconds=values["LATE_AFTER"]))
    stuck = Q(state=State.SENDING, claimed_at__lt=now - dt.timedelta(seconds=values["CLAIM_TIMEOUT"]))
    return waiting | stuck
