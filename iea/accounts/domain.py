import datetime as dt

from django.contrib.auth import get_user_model
from django.core import signing
from django.db import transaction

from iea.audit.domain import audit_record

from .models import new_calendar_key

# The one-click unsubscribe link of call announcements carries the user's id, signed with this salt: a
# signature made for anything else (a session, another link) is not accepted here.
ANNOUNCEMENTS_SALT = "iea.accounts.announcements.unsubscribe"


def calendar_key_reset(*, user, now: dt.datetime) -> str:
    """Give the person's calendar feed a new secret address; the old one stops working at once."""
    user.calendar_key = new_calendar_key()
    user.save(update_fields=["calendar_key"])
    audit_record(actor=user, target=user, action="account.calendar_reset", now=now)
    return user.calendar_key


def announcements_set(*, user, subscribed: bool, now: dt.datetime, via: str) -> bool:
    """Subscribe the person to call announcements, or unsubscribe them (domain.md, notifications: "call
    published / opens → subscribed users"). Returns whether anything changed.

    ``via`` says how: ``"page"`` (their Notifications page, signed in: they are the actor), ``"link"`` (the
    one-click link of an announcement, nobody signed in) or ``"demo"``. A compare-and-set update: two
    clicks at once change the flag once and write one audit entry; asking for the current state writes
    nothing. Messages already recorded are checked again when sent (``calls.notifications``).
    """
    with transaction.atomic():
        changed = (get_user_model().objects.filter(pk=user.pk).exclude(call_announcements=subscribed)
                   .update(call_announcements=subscribed))
        user.call_announcements = subscribed
        if changed:
            audit_record(
                actor=user if via == "page" else None,
                actor_label="" if via == "page" else f"<{user.email}> via {via}",
                target=user, action="account.announcements_" + ("subscribe" if subscribed else "unsubscribe"),
                now=now, from_state="unsubscribed" if subscribed else "subscribed",
                to_state="subscribed" if subscribed else "unsubscribed", data={"via": via},
            )
    return bool(changed)


def announcements_token(user) -> str:
    """The secret part of the person's unsubscribe link. It does not expire: a mail read months later
    must still unsubscribe."""
    return signing.dumps(user.pk, salt=ANNOUNCEMENTS_SALT)


def announcements_user(token: str):
    """The person an unsubscribe link was made for, or None for a link that is tampered with, made for
    something else, or whose account no longer exists."""
    try:
        user_id = signing.loads(token, salt=ANNOUNCEMENTS_SALT)
    except signing.BadSignature:
        return None
    if not isinstance(user_id, int):
        return None
    return get_user_model().objects.filter(pk=user_id).first()
