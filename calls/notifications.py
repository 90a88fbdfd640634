"""Call announcements (domain.md, notifications: "call published / opens → subscribed users →
announcement with deadlines").

People tick "Send me call announcements" on their Notifications page (``User.call_announcements``). Each
call is announced to them twice: ``published`` while it is visible but not open yet, and ``opened`` once
it accepts proposals. A person who subscribes while a call is open gets its ``opened`` announcement at the
next tick; the outbox never records the same announcement twice. Every announcement carries a signed
one-click unsubscribe link, also in the ``List-Unsubscribe`` headers (RFC 8058).
"""

import datetime as dt

from django.conf import settings
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from iea.accounts.domain import announcements_token
from iea.notifications.kinds import Due, Kind, Recipient, register, register_occurrences, schedule
from iea.notifications.models import Notification

from .domain import call_accepts_submissions, call_deadline
from .models import Call, CallState

PUBLISHED = "published"
OPENED = "opened"


def announcement_due(call: Call, *, now: dt.datetime) -> str:
    """Which announcement the call's state calls for now: ``published`` while it is visible but does not
    accept proposals yet (published, or open before ``opens_at``), ``opened`` while it accepts them, or ""."""
    if call_accepts_submissions(call, now=now):
        return OPENED
    if call.state == CallState.PUBLISHED or (call.state == CallState.OPEN and now < call.opens_at):
        return PUBLISHED
    return ""


def _announces(notification) -> str:
    """What a recorded announcement is about: its occurrence, kept in its parameters too so that a copy
    staff send again (whose occurrence is "resend …") says the same."""
    return notification.params.get("announces") or notification.occurrence


def unsubscribe_url(user) -> str:
    return settings.SITE_URL + reverse("announcements_unsubscribe", kwargs={"token": announcements_token(user)})


def _context(call: Call, notification) -> dict:
    return {"call": call, "opened": _announces(notification) == OPENED, "deadline": call_deadline(call),
            "url": reverse("calls:detail", kwargs={"year": call.year}),
            "unsubscribe_url": unsubscribe_url(notification.recipient)}


def _headers(call: Call, notification) -> dict[str, str]:
    return {"List-Unsubscribe": f"<{unsubscribe_url(notification.recipient)}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}


def _skip(call: Call, notification, now: dt.datetime) -> str:
    """Recorded, then overtaken: the person unsubscribed, or the call moved on (an announcement of a
    publication is not sent once the call is open — the opening's is — nor one of an opening once it closed)."""
    user = notification.recipient
    if user is None or not user.is_active or not user.call_announcements:
        return _("The person no longer subscribes to call announcements.")
    if announcement_due(call, now=now) != _announces(notification):
        return _("The call is no longer at the stage this announcement is about.")
    return ""


register(Kind(name="call_announcement", label=_("Call announcement"), template="call_announcement", model=Call,
              context=_context, headers=_headers, skip=_skip))


@schedule
def call_announcements(now: dt.datetime):
    """Each call that is published or open, to every active subscriber who has not had this announcement
    yet: one query for the calls, one per call announced (rarely more than one) whatever the number of
    subscribers — those already on record are left out by the database."""
    for call in Call.objects.filter(state__in=[CallState.PUBLISHED, CallState.OPEN]).order_by("opens_at"):
        occurrence = announcement_due(call, now=now)
        if not occurrence:
            continue
        on_record = Notification.objects.filter(
            kind="call_announcement", content_type__app_label="calls", content_type__model="call",
            object_id=call.pk, occurrence=occurrence, recipient__isnull=False,
        ).values("recipient_id")
        subscribers = (get_user_model().objects.filter(call_announcements=True, is_active=True)
                       .exclude(pk__in=on_record).only("pk", "email", "language").order_by("pk"))
        recipients = [Recipient.of(user) for user in subscribers]
        if recipients:
            yield Due(kind="call_announcement", target=call, recipients=recipients, occurrence=occurrence,
                      due_at=call.opens_at if occurrence == OPENED else now, params={"announces": occurrence})


register_occurrences({PUBLISHED: _("announcement of the publication"), OPENED: _("announcement of the opening")})
