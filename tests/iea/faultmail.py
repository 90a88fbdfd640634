"""A mail backend for the fault tests (tests/iea/test_notification_faults.py), used by real worker processes.

Each message handed to it is appended as one JSON line to the file named by ``FAULTMAIL_LOG`` (written with
``O_APPEND`` and fsynced before ``send_messages`` returns), so a test counts what every worker process
delivered, including a worker that died a moment later. Faults, from the environment of the worker:

- ``FAULTMAIL_CRASH_BEFORE=N``: the process kills itself (SIGKILL: no cleanup, no ack) when handed its N-th
  message, before delivering it — a worker that dies mid-batch;
- ``FAULTMAIL_CRASH_AFTER=N``: it delivers its N-th message, then kills itself before the outbox could mark
  it sent — a crash between the SMTP server's "250 OK" and the database's commit;
- ``FAULTMAIL_DELAY=seconds``: each delivery takes this long (a slow SMTP server), so a run lasts long
  enough to be interrupted.

The counts are per process: a restarted worker starts from zero. Each line also names the mail
session (connection) it went over, opened and closed as Django's SMTP backend does.
"""

import json
import os
import signal
import time

from django.core.mail.backends.base import BaseEmailBackend

_handed = 0  # messages handed to this process's backends so far


def _int(name: str) -> int:
    return int(os.environ.get(name) or 0)


def _die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


class EmailBackend(BaseEmailBackend):
    """Sessions behave as Django's SMTP backend's: ``open()`` starts one (each line says which), and
    ``send_messages`` on a backend not opened first opens one for the call and closes it after."""

    session: str | None = None
    sessions = 0  # opened by this process

    def open(self):
        if self.session is not None:
            return False
        type(self).sessions += 1
        self.session = f"{os.getpid()}-{type(self).sessions}"
        return True

    def close(self):
        self.session = None

    def send_messages(self, email_messages) -> int:
        opened = self.open()
        try:
            return self._deliver(email_messages)
        finally:
            if opened:
                self.close()

    def _deliver(self, email_messages) -> int:
        global _handed
        path = os.environ["FAULTMAIL_LOG"]
        delay = float(os.environ.get("FAULTMAIL_DELAY") or 0)
        sent = 0
        for message in email_messages:
            _handed += 1
            if _handed == _int("FAULTMAIL_CRASH_BEFORE"):
                _die()
            if delay:
                time.sleep(delay)
            headers = message.extra_headers
            line = json.dumps({
                "to": list(message.to), "subject": str(message.subject),
                "message_id": headers.get("Message-ID", ""), "pid": os.getpid(), "session": self.session,
                "at": time.time(),
            }) + "\n"
            descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                os.write(descriptor, line.encode())
                os.fsync(descriptor)
            finally:
                os.close(descriptor)
            sent += 1
            if _handed == _int("FAULTMAIL_CRASH_AFTER"):
                _die()
        return sent


def deliveries(path) -> list[dict]:
    """The messages delivered so far, in order (a line still being written is left for the next read)."""
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except FileNotFoundError:
        return []
    return [json.loads(line) for line in text.split("\n")[:-1] if line]
