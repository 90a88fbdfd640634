"""A batch's claim on its rows, kept alive by a heartbeat while the batch is sent, and the rule that keeps a
message from going out twice when a claim is taken over.

A worker claims rows (``claim``, ``claimed_at``) before sending them; another worker may take a row over once
its ``claimed_at`` is older than ``CLAIM_TIMEOUT`` — that is how the mail of a worker that died goes out. The
heartbeat, a thread of the batch with its own database connection, renews the batch's ``claimed_at`` every
``HEARTBEAT`` seconds for as long as the batch runs, so a live worker's claim never ages past a heartbeat and
``CLAIM_TIMEOUT`` can be short (a dead worker's mail is taken over within about a minute, not ten).

Never twice: a renewal that starts at (monotonic) time r writes ``claimed_at`` ≥ r, and renews only rows
still ours, so no other worker can take those rows before r + CLAIM_TIMEOUT. The batch sends a row at time t
only if the row was ours at the last successful renewal r and

    (t − r) + EMAIL_TIMEOUT + CLAIM_MARGIN ≤ CLAIM_TIMEOUT

so the send (its SMTP waits bounded by ``EMAIL_TIMEOUT``; rendering, the "sent" write and clock differences
between hosts by ``CLAIM_MARGIN``) ends before anyone else may take the row; otherwise it renews first, in
its own thread. The heartbeat keeps t − r under ``HEARTBEAT``, so sends never wait on a renewal when

    HEARTBEAT + EMAIL_TIMEOUT + CLAIM_MARGIN < CLAIM_TIMEOUT

which ``timing.timing_problems`` checks: Django's system checks (``migrate``, ``check``, ``runserver``) and the
Celery worker's start refuse a configuration that breaks it.
"""

import logging
import threading
import time

from django.db import connection
from django.utils import timezone

from .models import Notification, NotificationState
from .timing import send_bound

log = logging.getLogger(__name__)


class Lease:
    """The batch's claim: ``holds(pk)`` says whether the batch may send row ``pk`` now (see the module).

    ``claimed_age`` is how old the claim already is when the lease starts (a ``now`` in the past)."""

    def __init__(self, claim, *, pks: list[int], claim_timeout: float, heartbeat: float, margin: float,
                 claimed_age: float = 0.0):
        self.claim, self.heartbeat = claim, heartbeat
        self.max_age = claim_timeout - send_bound() - margin
        self.renewed = time.monotonic() - max(claimed_age, 0.0), frozenset(pks)  # (when, the rows still ours)
        self.renewals = 0  # by the heartbeat (for tests and logs)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> "Lease":
        if connection.in_atomic_block:
            # The claim is not committed: no other connection sees it, so no other worker can take the rows
            # over, and the heartbeat's own connection would find none of them (and drop them all from
            # ``holds``). The batch keeps its rows; ``holds`` still renews in this connection when it is due.
            return self
        self._thread = threading.Thread(target=self._beat, name=f"outbox-heartbeat-{self.claim}", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def _beat(self) -> None:
        try:
            while not self._stop.wait(self.heartbeat):
                try:
                    self.renew()
                    self.renewals += 1
                except Exception:  # the database is away: the batch renews itself before its next send, or stops
                    log.warning("notifications: the heartbeat of claim %s could not renew it", self.claim,
                                exc_info=True)
        finally:
            connection.close()  # this thread's own connection

    def renew(self) -> None:
        started = time.monotonic()  # before claimed_at is read: the renewal holds from here
        rows = Notification.objects.filter(claim=self.claim, state=NotificationState.SENDING)
        rows.update(claimed_at=timezone.now())
        self.renewed = started, frozenset(rows.values_list("pk", flat=True))

    def holds(self, pk: int) -> bool:
        renewed_at, ours = self.renewed
        if time.monotonic() - renewed_at > self.max_age:
            self.renew()
            renewed_at, ours = self.renewed
        return pk in ours
