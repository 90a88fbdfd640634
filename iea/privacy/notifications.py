"""The person is told when their request for erasure is refused (the reasons, in their language)."""

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from iea.notifications.domain import notify
from iea.notifications.kinds import Kind, Recipient, register

from .models import ErasureRequest


def _context(request, notification) -> dict:
    from .domain import Blocker

    return {"request": request, "person": request.user,
            "reasons": [Blocker.from_data(data).describe() for data in request.blockers],
            "url": reverse("privacy:page")}


register(Kind(
    name="erasure_refused", label=_("Request for erasure refused"), template="erasure_refused",
    model=ErasureRequest, select_related=("user",), context=_context,
))


def notify_erasure_refused(request: ErasureRequest, *, now) -> None:
    notify(kind="erasure_refused", target=request, recipients=[Recipient.of(request.user)], now=now)
