import datetime as dt

from iea.audit.domain import audit_record

from .models import new_calendar_key


def calendar_key_reset(*, user, now: dt.datetime) -> str:
    """Give the person's calendar feed a new secret address; the old one stops working at once."""
    user.calendar_key = new_calendar_key()
    user.save(update_fields=["calendar_key"])
    audit_record(actor=user, target=user, action="account.calendar_reset", now=now)
    return user.calendar_key
