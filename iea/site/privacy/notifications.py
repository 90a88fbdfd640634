"""The person is told when their request for erasure is refused (the reasons, in their language).

This module declares the kind; ``domain/mail.py`` records the message.
"""

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from iea.notifications.kinds import Kind, register

from .domain import Blocker
from .models import ErasureRequest


def _context(request, notification) -> dict:
    return {"request": request, "person": request.user,
            "reasons": [Blocker.from_data(data).describe() for data in request.blockers],
            "url": reverse("privacy:page")}


register(Kind(
    name="erasure_refused", label=_("Request for erasure refused"), template="erasure_refused",
    model=ErasureRequest, select_related=("user",), context=_context,
))
