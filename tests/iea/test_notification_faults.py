"""The outbox under faults (#5), with real Celery worker and beat processes on a real Redis — nothing eager.

Each test starts ``celery -A iea worker`` (solo pool) and, where it says so, ``celery -A iea beat`` as
subprocesses of this one, on the test database (``DATABASE_URL`` of the database pytest-django made, so the
rows these tests create are the ones the workers read) and on a queue of its own (``CELERY_TASK_DEFAULT_QUEUE``),
so parallel test processes and other runs on the same Redis never feed each other's workers. The workers
send their mail to ``tests/iea/faultmail.py``, which appends every delivered message to a file (and can
crash its worker on demand): a recipient's mails are counted across processes, including processes that
died. Timeouts are seconds, not minutes (``CLAIM_TIMEOUT``, ``REQUEUE_IDLE_AFTER``, ticks every half second;
FAULTS_PRODUCTION_TIMING=1 runs tests 1 and 3 with the production defaults instead), the recovery times are
measured against the bounds those timeouts give, and every wait polls with a deadline.

The messages are draft reminders of one call, one per PI (D−14; in test 4, D−7 then D−1), in batches
of five (``NOTIFICATIONS_BATCH_SIZE``).
"""

import contextlib
import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from calls.domain import call_extend
from calls.models import Call
from iea.celery import app
from iea.notifications.domain import dispatch
from iea.notifications.models import Notification, NotificationState
from proposals.domain import letter_attach
from proposals.letters import check_pdf
from tests.factories import CallFactory, ProposalFactory, UserFactory
from tests.pdfs import pdf_upload
from tests.redis_servers import app_on, fail_or_skip, redis_answers

from . import faultmail

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]

DAY = dt.timedelta(days=1)
SENT, SENDING, PENDING = NotificationState.SENT, NotificationState.SENDING, NotificationState.PENDING
DISPATCH = "iea.notifications.tasks.dispatch_due"
BATCH = 5
PIS = 25  # five batches
# Seconds, not the production minutes: a heartbeat every half second (EMAIL_TIMEOUT 1, CLAIM_MARGIN 1: the
# timing rule of iea/notifications/lease.py holds, 0.5 + 1 + 1 < 3). REQUEUE_AFTER is production's: only an
# empty queue re-queues sooner (REQUEUE_IDLE_AFTER).
CLAIM_TIMEOUT = 3
HEARTBEAT = 0.5
CLAIM_MARGIN = 1
EMAIL_TIMEOUT = 1
REQUEUE_AFTER = 600
REQUEUE_IDLE_AFTER = 2
TICK = 0.5  # the test's own ticks (``Cluster.wait(tick=True)``)
WAIT = 90  # seconds: the deadline of any one wait (a failure, not a slow pass, when reached)
SLACK = 15  # seconds a loaded CI machine may add to a recovery time
# FAULTS_PRODUCTION_TIMING=1: the timeouts' production defaults (iea/settings.py) and a real beat ticking
# every NOTIFICATIONS_TICK, to measure the recovery times README quotes (a few minutes for the run).
PRODUCTION_TIMING = os.environ.get("FAULTS_PRODUCTION_TIMING") == "1"
if PRODUCTION_TIMING:
    WAIT = 300


def _database_url() -> str:
    """The database this test runs on (pytest-django's test database), as the workers' DATABASE_URL."""
    db = connection.settings_dict
    if db["ENGINE"] == "django.db.backends.sqlite3":
        # A file (settings: SQLITE_TEST_NAME), which the workers open too; WAL lets them write alongside.
        name = str(db["NAME"])
        if name == ":memory:" or name.startswith("file:"):
            pytest.fail("The fault tests need the SQLite test database in a file (see iea/settings.py).")
        return f"sqlite:///{Path(name).resolve()}"
    if db["ENGINE"] == "django.db.backends.postgresql":
        auth = quote(db["USER"] or "", safe="")
        if db["PASSWORD"]:
            auth += ":" + quote(db["PASSWORD"], safe="")
        host = db["HOST"] or "localhost"
        return f"postgres://{auth}@{host}:{db['PORT'] or 5432}/{quote(db['NAME'], safe='')}"
    pytest.fail(f"No worker database URL for {db['ENGINE']}.")


def _purge(url: str, queue: str) -> None:
    """Leave nothing of this test's queue on a shared Redis: its messages, its bindings, and the messages
    a killed worker left unacknowledged (kombu would put them back in the queue an hour later)."""
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=2)
    with contextlib.suppress(redis.exceptions.ConnectionError):
        for key in client.scan_iter(match=f"*{queue}*"):
            client.delete(key)
        for tag, payload in client.hscan_iter("unacked"):
            with contextlib.suppress(ValueError, TypeError):
                _message, exchange, routing_key = json.loads(payload)
                if queue in (exchange, routing_key):
                    client.hdel("unacked", tag)
                    client.zrem("unacked_index", tag)
        for key in client.scan_iter(match="_kombu.binding.*"):
            members = [m for m in client.smembers(key) if queue.encode() in m]
            if members:
                client.srem(key, *members)


class Cluster:
    """Worker and beat processes on one broker and one queue of their own, and what they delivered."""

    def __init__(self, broker: str, root: Path):
        self.broker = broker
        self.queue = f"iea-faults-{uuid.uuid4().hex[:12]}"
        self.root = root
        self.mail_log = root / "mail.jsonl"
        self.processes: dict[str, subprocess.Popen] = {}
        environment = {key: value for key, value in os.environ.items()
                       if not key.startswith(("FAULTMAIL_", "NOTIFICATIONS_", "CELERY_", "EMAIL_TIMEOUT"))}
        self.environment = {
            **environment,
            "DJANGO_SETTINGS_MODULE": "iea.settings",
            "DATABASE_URL": _database_url(),
            "CELERY_BROKER_URL": broker,
            "CELERY_TASK_DEFAULT_QUEUE": self.queue,
            "CELERY_TASK_ALWAYS_EAGER": "0",
            "EMAIL_BACKEND": "tests.iea.faultmail.EmailBackend",
            "FAULTMAIL_LOG": str(self.mail_log),
            "NOTIFICATIONS_BATCH_SIZE": str(BATCH),
            "NOTIFICATIONS_RETRY_BASE": "1",
            **({} if PRODUCTION_TIMING else {
                "NOTIFICATIONS_TICK": "1",
                "NOTIFICATIONS_CLAIM_TIMEOUT": str(CLAIM_TIMEOUT),
                "NOTIFICATIONS_HEARTBEAT": str(HEARTBEAT),
                "NOTIFICATIONS_CLAIM_MARGIN": str(CLAIM_MARGIN),
                "EMAIL_TIMEOUT": str(EMAIL_TIMEOUT),
                "NOTIFICATIONS_REQUEUE_AFTER": str(REQUEUE_AFTER),
                "NOTIFICATIONS_REQUEUE_IDLE_AFTER": str(REQUEUE_IDLE_AFTER),
            }),
            "LOG_LEVEL": "INFO",
            "PYTHONUNBUFFERED": "1",
            "PYTHONWARNINGS": "ignore",
        }

    # --- processes ----------------------------------------------------------------------------------

    def _start(self, name: str, arguments: list[str], environment: dict) -> subprocess.Popen:
        assert name not in self.processes, f"{name} started twice"
        with open(self.root / f"{name}.log", "ab") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "iea", *arguments],
                cwd=settings.BASE_DIR, env={**self.environment, **environment}, stdin=subprocess.DEVNULL,
                stdout=log, stderr=subprocess.STDOUT,
            )
        self.processes[name] = process
        return process

    def worker(self, name: str, **environment) -> subprocess.Popen:
        return self._start(name, [
            "worker", "--pool=solo", "--concurrency=1", "-Q", self.queue, "-n", f"{name}-{self.queue}@%h",
            "--without-heartbeat", "--without-gossip", "--without-mingle", "-l", "info",
        ], environment)

    def beat(self, name: str, **environment) -> subprocess.Popen:
        return self._start(name, ["beat", "-s", str(self.root / f"{name}-schedule"), "-l", "info"], environment)

    def stop_all(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.terminate()
        deadline = time.monotonic() + 10
        for process in self.processes.values():
            try:
                process.wait(timeout=max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)

    def log(self, name: str) -> str:
        path = self.root / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def wait_ready(self, *names: str) -> None:
        for name in names:
            self.wait(lambda name=name: " ready." in self.log(name), f"{name} to be ready")

    def keep_ticking(self) -> bool:
        """Ticks until the test ends: the test's own, every TICK (``wait(tick=True)``, returned), or with
        FAULTS_PRODUCTION_TIMING a beat's, every NOTIFICATIONS_TICK."""
        if not PRODUCTION_TIMING:
            return True
        if "beat" not in self.processes:
            self.beat("beat")
        return False

    def beat_ticks(self, name: str) -> int:
        return self.log(name).count("Sending due task")

    def wait_exit(self, name: str) -> int:
        process = self.processes[name]
        self.wait(lambda: process.poll() is not None, f"{name} to exit")
        return process.returncode

    # --- broker -------------------------------------------------------------------------------------

    def tick(self, now: dt.datetime | None = None) -> None:
        """What beat does every NOTIFICATIONS_TICK: send ``dispatch_due`` to the workers."""
        app.send_task(DISPATCH, kwargs={"now": now.isoformat()} if now else {}, queue=self.queue)

    def queued(self) -> int:
        import redis

        return redis.Redis.from_url(self.broker, socket_connect_timeout=2).llen(self.queue)

    # --- outcome ------------------------------------------------------------------------------------

    def mails(self) -> list[dict]:
        return faultmail.deliveries(self.mail_log)

    def wait(self, condition, what: str, *, tick: bool = False, timeout: float = WAIT) -> None:
        """Poll ``condition`` until it holds; with ``tick``, send a tick every half second meanwhile."""
        deadline = time.monotonic() + timeout
        next_tick = time.monotonic()
        while not condition():
            if time.monotonic() > deadline:
                raise AssertionError(f"Gave up waiting for {what} after {timeout} s.\n{self.diagnostics()}")
            if tick and time.monotonic() >= next_tick:
                self.tick()
                next_tick = time.monotonic() + 0.5
            time.sleep(0.1)

    def wait_sent(self, total: int, *, tick: bool = False) -> None:
        self.wait(lambda: states() == {SENT: total}, f"{total} messages sent", tick=tick)

    def diagnostics(self) -> str:
        lines = [f"states: {states()}", f"mails: {len(self.mails())}"]
        for name, process in self.processes.items():
            tail = "\n    ".join(self.log(name).splitlines()[-25:])
            lines.append(f"--- {name} (exit {process.poll()}):\n    {tail}")
        return "\n".join(lines)


def states() -> dict:
    return dict(Counter(Notification.objects.values_list("state", flat=True)))


@pytest.fixture
def redis_url():
    url = os.environ.get("REDIS_TEST_URL", "redis://127.0.0.1:6379/15")
    if not redis_answers(url):
        fail_or_skip(f"needs Redis at {url}")
    return url


@pytest.fixture
def make_cluster(tmp_path, transactional_db, settings):
    """``make_cluster(broker)``: a cluster whose processes are always stopped afterwards, its queue purged;
    this process's Celery app sends to its queue meanwhile, and its outbox has the workers' timing."""
    settings.NOTIFICATIONS = {**settings.NOTIFICATIONS, "BATCH_SIZE": BATCH, "RETRY_BASE": 1, **({} if PRODUCTION_TIMING else {
        "TICK": 1, "CLAIM_TIMEOUT": CLAIM_TIMEOUT, "HEARTBEAT": HEARTBEAT, "CLAIM_MARGIN": CLAIM_MARGIN,
        "REQUEUE_AFTER": REQUEUE_AFTER, "REQUEUE_IDLE_AFTER": REQUEUE_IDLE_AFTER})}
    clusters = []
    with contextlib.ExitStack() as stack:

        def make(broker: str) -> Cluster:
            cluster = Cluster(broker, tmp_path)
            clusters.append(cluster)
            stack.callback(_purge, broker, cluster.queue)
            stack.callback(cluster.stop_all)
            stack.enter_context(app_on(broker, cluster.queue))
            return cluster

        yield make


@pytest.fixture
def cluster(make_cluster, redis_url) -> Cluster:
    return make_cluster(redis_url)


def _drafts(count: int, closes_in: dt.timedelta, *, letter: bool = False) -> tuple[Call, list[str]]:
    """An open call and ``count`` PIs with one unsubmitted draft each; the call and the PIs' addresses.
    One transaction: a dispatcher running meanwhile finds all of them or none."""
    emails = [f"pi{index:02d}-{uuid.uuid4().hex[:6]}@faults.example.org" for index in range(count)]
    with transaction.atomic():
        call = CallFactory(closes_at=timezone.now() + closes_in)
        for email in emails:
            proposal = ProposalFactory(call=call, complete=True, pi=UserFactory(email=email))
            if letter:
                letter_attach(proposal_id=proposal.pk, pdf=check_pdf(pdf_upload()), now=timezone.now(),
                              user=proposal.pi)
    return call, emails


def _by_recipient(mails: list[dict]) -> Counter:
    return Counter(address for mail in mails for address in mail["to"])


def _message_ids() -> dict[str, str]:
    """Each row's Message-ID (``domain.build``; the workers have this process's SITE_URL) → its address."""
    host = urlsplit(settings.SITE_URL).hostname
    return {f"<notification-{pk}@{host}>": email for pk, email in Notification.objects.values_list("pk", "email")}


@pytest.mark.parametrize("crash", ["before", "after"])
def test_a_worker_killed_mid_batch_is_caught_up_after_a_restart(cluster, crash):
    """(1) The worker dies (SIGKILL, from inside its mail backend) on the 8th message: the 2nd of five
    batches. ``before``: before handing it to SMTP; ``after``: after SMTP took it, before the outbox
    marked it sent. A new worker and the next ticks send the rest: the batches still in Redis at once,
    the rows the dead worker had claimed once its claim is older than CLAIM_TIMEOUT.

    Every recipient gets exactly one mail — except, when the crash fell between SMTP and the database, the
    one message in flight, which goes out twice with the same Message-ID (the receiving side can tell).

    Recovery (from the dead worker's death, less the new worker's start, to the last mail) is bounded by its last heartbeat, CLAIM_TIMEOUT and
    one tick: about 3 s here, at most 95 s with the production defaults (FAULTS_PRODUCTION_TIMING=1).
    """
    _call, emails = _drafts(PIS, closes_in=10 * DAY)
    cluster.worker("first", **{f"FAULTMAIL_CRASH_{crash.upper()}": "8"})
    # Its start-up tick records the 25 reminders and queues five batches; it dies in the second.
    assert cluster.wait_exit("first") == -signal.SIGKILL
    died = time.monotonic()
    delivered = cluster.mails()
    assert len(delivered) == (7 if crash == "before" else 8)
    assert states() == {SENT: 7, SENDING: 3, PENDING: 15}

    cluster.worker("second")
    cluster.wait_ready("second")
    started = time.monotonic() - died  # a worker's start (seconds on a loaded machine) is not the outbox's
    cluster.wait_sent(PIS, tick=cluster.keep_ticking())
    recovery = time.monotonic() - died - started
    cluster.wait(lambda: cluster.queued() == 0, "the queue to drain")
    timing = settings.NOTIFICATIONS
    bound = timing["HEARTBEAT"] + timing["CLAIM_TIMEOUT"] + (timing["TICK"] if PRODUCTION_TIMING else TICK)
    print(f"recovery after a worker was killed ({crash}): {recovery:.1f} s once another worker was up "
          f"({started:.1f} s after the death; bound {bound} s + slack)")
    assert recovery < bound + SLACK

    mails = cluster.mails()
    in_flight = delivered[7]["to"][0] if crash == "after" else None
    assert _by_recipient(mails) == {email: 2 if email == in_flight else 1 for email in emails}
    ids = _message_ids()
    assert {mail["message_id"] for mail in mails} == set(ids)
    assert all(ids[mail["message_id"]] == mail["to"][0] for mail in mails)
    assert Notification.objects.filter(kind="draft_reminder", occurrence="-14d").count() == PIS


def test_two_beats_ticking_at_once_send_each_reminder_once(cluster):
    """(2) Two ``celery beat`` processes (a second one started by mistake) tick every second, with two
    workers: both ticks of each second record and queue the same reminders at once. The unique key
    records each message once and the claim sends it once, however often it was queued."""
    for name in ("worker-1", "worker-2"):
        cluster.worker(name)
    for name in ("beat-1", "beat-2"):
        cluster.beat(name)
    cluster.wait_ready("worker-1", "worker-2")
    cluster.wait(lambda: cluster.beat_ticks("beat-1") and cluster.beat_ticks("beat-2"), "both beats to tick")

    _call, emails = _drafts(PIS, closes_in=10 * DAY)  # committed at once: the next ticks of both beats find them
    cluster.wait_sent(PIS)
    # A few more ticks of each beat find nothing left to send.
    seen = {name: cluster.beat_ticks(name) for name in ("beat-1", "beat-2")}
    cluster.wait(lambda: all(cluster.beat_ticks(name) >= count + 3 for name, count in seen.items()),
                 "three more ticks of each beat")
    cluster.wait(lambda: cluster.queued() == 0, "the queue to drain")

    assert sorted(Notification.objects.values_list("email", flat=True)) == sorted(emails)
    mails = cluster.mails()
    assert _by_recipient(mails) == dict.fromkeys(emails, 1)
    assert {mail["message_id"] for mail in mails} == set(_message_ids())
    assert all(cluster.processes[name].poll() is None for name in ("worker-1", "worker-2", "beat-1", "beat-2"))


def test_redis_restarted_mid_run_loses_nothing(private_redis, make_cluster):
    """(3) Redis dies while a worker is sending the first of five batches, and comes back empty: the four
    batches it held are gone. The worker finishes its batch, reconnects, and the next ticks, finding the
    queue empty, queue the rows still waiting once REQUEUE_IDLE_AFTER has passed: every reminder goes out,
    once, within about a minute with the production defaults.

    The broker here is a redis-server of the test's own: killing the machine's Redis (CI's, the one
    REDIS_TEST_URL names) would break every other test using it at the same time — pytest -n runs them
    in parallel, and other runs may share it.
    """
    cluster = make_cluster(private_redis.url)
    _call, emails = _drafts(PIS, closes_in=10 * DAY)
    cluster.worker("worker", FAULTMAIL_DELAY="0.2")  # a slow SMTP server: five messages take a second
    cluster.wait(lambda: len(cluster.mails()) >= 2, "the first batch to be under way")

    private_redis.kill()
    private_redis.start()
    restarted = time.monotonic()
    assert cluster.queued() == 0
    # The batches still queued are lost with Redis (four, or three if the worker was into the second):
    # their rows wait in the database, and nothing in the broker says so.
    lost = states().get(PENDING, 0)
    assert lost % BATCH == 0 and lost >= PIS - 2 * BATCH

    cluster.wait_sent(PIS, tick=cluster.keep_ticking())
    recovery = time.monotonic() - restarted
    cluster.wait(lambda: cluster.queued() == 0, "the queue to drain")
    # Not REQUEUE_AFTER (ten minutes): the queue is empty, so the rows queued more than REQUEUE_IDLE_AFTER
    # ago are queued again at the next tick.
    timing = settings.NOTIFICATIONS
    bound = timing["REQUEUE_IDLE_AFTER"] + (timing["TICK"] if PRODUCTION_TIMING else TICK)
    print(f"recovery after Redis restarted empty: {recovery:.1f} s (bound {bound} s + slack)")
    assert recovery < bound + SLACK < timing["REQUEUE_AFTER"]
    assert cluster.processes["worker"].poll() is None  # it rode out the restart
    assert _by_recipient(cluster.mails()) == dict.fromkeys(emails, 1)


def test_a_moved_deadline_applies_the_new_schedule_and_repeats_nothing(cluster, staff):
    """(4) The D−7 reminder went out; the call is extended by ten days. At the old D−1 nothing is due
    (the D−14 of the new schedule is behind the D−7 already sent), at the new D−7 nothing either (sent),
    at the new D−1 the D−1 reminder goes out. The ticks run here (``dispatch`` with a ``now``); the
    worker sends what they queue. PIs have their letter, so D−7 is a draft reminder too."""
    t0 = timezone.now()
    call, emails = _drafts(BATCH, closes_in=6 * DAY, letter=True)
    cluster.worker("worker")
    cluster.wait_ready("worker")

    dispatch(now=t0)  # (the worker's start-up tick may have recorded them already: same rows)
    cluster.wait_sent(BATCH)
    assert _by_recipient(cluster.mails()) == dict.fromkeys(emails, 1)

    call_extend(call_id=call.pk, user=staff, now=t0, new_closes_at=t0 + 16 * DAY, reason="Strike.")
    assert dispatch(now=t0 + 5 * DAY + 12 * dt.timedelta(hours=1)).recorded == 0  # the old D−1
    assert dispatch(now=t0 + 9 * DAY + dt.timedelta(hours=1)).recorded == 0  # the new D−7: sent already
    assert dispatch(now=t0 + 15 * DAY + 12 * dt.timedelta(hours=1)).recorded == BATCH  # the new D−1
    cluster.wait_sent(2 * BATCH)
    cluster.wait(lambda: cluster.queued() == 0, "the queue to drain")

    rows = Counter(Notification.objects.values_list("kind", "occurrence"))
    assert rows == {("draft_reminder", "-7d"): BATCH, ("draft_reminder", "-1d"): BATCH}
    mails = cluster.mails()
    assert _by_recipient(mails) == dict.fromkeys(emails, 2)
    assert {mail["message_id"] for mail in mails} == set(_message_ids())
    # Each tick's reminders (one batch) went out over one mail connection, not one per message.
    assert len({mail["session"] for mail in mails}) == 2
