"""The site-wide template helpers: money, numbers and dates through ``iea.formats`` (one formatter for
pages, mails and PDFs), the time left in words, badges. It is the core's library and knows no app: a filter
that needs an app's models lives in that app's own library (``proposals_extras``)."""

import datetime as dt

from django import template
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django_countries import countries

from iea import formats

register = template.Library()


@register.filter
def money(amount) -> str:
    """``10 000,00 €`` / ``€10,000.00``."""
    return formats.money(amount)


@register.filter
def number(value, decimals=None) -> str:
    """``value|number`` (a whole number as an integer, else two places at most) or ``value|number:2``."""
    return formats.number(value, decimals=None if decimals in (None, "") else int(decimals))


@register.filter
def percent(ratio) -> str:
    """``12,5 %`` / ``12.5%`` for a ratio (``0.125``)."""
    return formats.percent(ratio)


@register.filter
def long_date(day) -> str:
    """``1er juin 2027`` / ``1 June 2027``."""
    return formats.date(day)


@register.filter
def clock(moment) -> str:
    """``13:00`` on the Paris clock."""
    return formats.time(moment)


@register.filter
def paris(moment: dt.datetime | None) -> str:
    """``1er juin 2027 à 13:00 (heure de Paris)`` / ``1 June 2027, 13:00 (Paris time)``."""
    return formats.datetime(moment)


@register.filter
def paris_bare(moment: dt.datetime | None) -> str:
    """``paris`` without the zone, where the sentence around it already says "Paris time"."""
    return formats.datetime(moment, zone=False)


@register.filter
def iso(moment: dt.datetime | None) -> str:
    """For machines only (the countdown script's ``data-deadline``), never shown to a person."""
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
def country_name(code: str) -> str:
    return countries.name(code) or code
