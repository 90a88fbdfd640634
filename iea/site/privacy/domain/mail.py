"""The message a refused request for erasure records in the outbox, in the caller's transaction.

A leaf of the domain: it imports only the models and the outbox, so ``erasure`` calls it at the top of its
module, and ``privacy/notifications.py`` (which declares the kind and renders it) may import the domain
without a circle.
"""

import datetime as dt

from iea.notifications.domain import notify
from iea.notifications.kinds import Recipient

from ..models import ErasureRequest


def notify_erasure_refused(*, request: ErasureRequest, now: dt.datetime) -> None:
    """The person is told their request for erasure was refused; the message gives the reasons."""
    notify(kind="erasure_refused", target=request, recipients=[Recipient.of(request.user)], now=now)
