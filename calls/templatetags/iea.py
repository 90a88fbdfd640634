"""Template helpers for deadlines: Paris time with its UTC offset, and the time left in words."""

import datetime as dt

from django import template
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

register = template.Library()


@register.filter
def paris(moment: dt.datetime | None) -> str:
    """``30/09/2027 13:00 (UTC+02:00)`` — the Paris wall-clock time and its offset, so nobody guesses."""
    if moment is None:
        return ""
    local = timezone.localtime(moment)
    offset = local.strftime("%z")
    return f"{date_format(local, 'j F Y, H:i')} (UTC{offset[:3]}:{offset[3:]})"


@register.filter
def iso(moment: dt.datetime | None) -> str:
    return moment.isoformat() if moment else ""


@register.simple_tag
def time_left(deadline: dt.datetime, now: dt.datetime) -> str:
    """The time left before a deadline, to the minute in the last day."""
    seconds = int((deadline - now).total_seconds())
    if seconds <= 0:
        return _("closed")
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return ngettext("%(n)d day", "%(n)d days", days) % {"n": days} + ", " + ngettext(
            "%(n)d hour", "%(n)d hours", hours) % {"n": hours}
    if hours:
        return ngettext("%(n)d hour", "%(n)d hours", hours) % {"n": hours} + ", " + ngettext(
            "%(n)d minute", "%(n)d minutes", minutes) % {"n": minutes}
    return ngettext("%(n)d minute", "%(n)d minutes", max(minutes, 1)) % {"n": max(minutes, 1)}


@register.inclusion_tag("components/badge.html")
def state_badge(state: str, label: str):
    return {"state": state, "label": label}


@register.filter
def get_bound(form, name: str):
    """``form|get_bound:name`` — the bound field called ``name``."""
    return form[name]


@register.filter
def budget_category(value: str) -> str:
    from proposals.models import BudgetCategory

    try:
        return BudgetCategory(value).label
    except ValueError:
        return value


@register.filter
def country_name(code: str) -> str:
    from django_countries import countries

    return countries.name(code) or code
