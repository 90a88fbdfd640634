"""The stack test's mail server: a real SMTP server (aiosmtpd) that keeps every message it accepted.

It can hold a client when it names a given recipient (:meth:`Mailbox.hold_at`): the worker is then between
two messages of its batch — the previous one accepted (250) and marked sent, this one not handed over (no
data yet) — which is where the test kills it. A message is counted once the server answered 250 to its data.
"""

import asyncio
import email
import email.policy
import logging
import threading
from dataclasses import dataclass

from aiosmtpd.controller import Controller


@dataclass(frozen=True)
class Received:
    to: tuple[str, ...]
    subject: str
    message_id: str
    text: str
    attachments: tuple[bytes, ...]
    raw: bytes


class Mailbox:
    def __init__(self):
        self._lock = threading.Lock()
        self._messages: list[Received] = []
        self._hold_rcpt: str | None = None
        self.holding = threading.Event()
        self._release = threading.Event()

    # --- what the test asks ---

    def messages(self) -> list[Received]:
        with self._lock:
            return list(self._messages)

    def hold_at(self, address: str) -> None:
        """Hold the client that names ``address`` as a recipient, before its message, until released."""
        self.holding.clear()
        self._release.clear()
        with self._lock:
            self._hold_rcpt = address

    def release(self) -> None:
        with self._lock:
            self._hold_rcpt = None
        self._release.set()

    # --- aiosmtpd's handler ---

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        with self._lock:
            hold = self._hold_rcpt is not None and address.lower() == self._hold_rcpt
        if hold:
            self.holding.set()
            while not self._release.is_set():
                await asyncio.sleep(0.05)
            return "451 Try again later"  # the client is gone by now
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        body = message.get_body(preferencelist=("plain",))
        attachments = tuple(part.get_content() for part in message.iter_attachments())
        received = Received(to=tuple(envelope.rcpt_tos), subject=str(message["Subject"] or ""),
                            message_id=str(message["Message-ID"] or ""), text=body.get_content() if body else "",
                            attachments=tuple(a if isinstance(a, bytes) else a.encode() for a in attachments),
                            raw=envelope.content)
        with self._lock:
            self._messages.append(received)
        return "250 Message accepted for delivery"


def serve(port: int) -> tuple[Controller, Mailbox]:
    logging.getLogger("mail.log").setLevel(logging.WARNING)  # a line per SMTP command otherwise
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    return controller, mailbox
