"""One formatter for the money, numbers and dates people read: pages, mails, PDFs, charts and the admin.

Driven by the active language (``django.utils.translation``) unless ``language`` is given. French follows
French typography (the Imprimerie nationale's rules): a narrow no-break space between thousands, a comma
before the decimals, a no-break space before "€", "1er" for the first day of a month, a 24-hour clock.
English: "€10,000.00", "1 June 2027, 13:00".

Instants are shown on the Paris wall clock with the zone said in words ("heure de Paris", "Paris time"),
never as an offset or an ISO string: the call's deadlines are Paris time whatever the season (CET/CEST).
Spreadsheets get real numbers and dates instead (``XLSX_MONEY``, ``XLSX_NUMBER``, ``XLSX_DATE``,
``XLSX_DATETIME`` on the Paris wall clock, ``XLSX_PERCENT``).

The core package imports no app; the site-wide template library ``iea/templatetags/iea.py`` exposes
these functions as filters.
"""

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import translation
from django.utils.dates import MONTHS

PARIS = ZoneInfo("Europe/Paris")
NBSP = "\u00a0"  # no-break space: before "€", after "1er" and the day
NNBSP = "\u202f"  # narrow no-break space: between thousands in French

XLSX_MONEY = '#,##0.00 "€"'
XLSX_NUMBER = "#,##0.00"
XLSX_INTEGER = "0"
XLSX_DATE = "dd/mm/yyyy"
XLSX_DATETIME = "dd/mm/yyyy hh:mm"
XLSX_PERCENT = "0.0%"

_SEPARATORS = {"fr": (NNBSP, ","), "en": (",", ".")}


def _language(language: str | None) -> str:
    code = (language or translation.get_language() or settings.LANGUAGE_CODE).split("-")[0].lower()
    return code if code in _SEPARATORS else "en"


def _decimal(value) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return value if isinstance(value, Decimal) else Decimal(str(value))
    except InvalidOperation:
        return None


def number(value, *, decimals: int | None = None, language: str | None = None) -> str:
    """``10 000,5`` / ``10,000.5``: ``decimals`` fixed places, or (``None``) a whole number as an integer
    and otherwise at most two places. ``None`` or ``""`` gives ``""``."""
    amount = _decimal(value)
    if amount is None:
        return ""
    if decimals is None:
        amount = amount.quantize(Decimal("0.01"), ROUND_HALF_UP)
        decimals = 0 if amount == amount.to_integral_value() else len(str(amount.normalize()).partition(".")[2])
    amount = amount.quantize(Decimal(1).scaleb(-decimals), ROUND_HALF_UP)
    thousands, point = _SEPARATORS[_language(language)]
    whole, _, fraction = f"{abs(amount):f}".partition(".")
    groups = []
    while len(whole) > 3:
        whole, group = whole[:-3], whole[-3:]
        groups.insert(0, group)
    text = thousands.join([whole, *groups]) + (point + fraction if fraction else "")
    return ("-" if amount < 0 else "") + text


def money(amount, *, language: str | None = None) -> str:
    """``10 000,00 €`` / ``€10,000.00``: always two decimals. ``None`` or ``""`` gives ``""``."""
    text = number(amount, decimals=2, language=language)
    if not text:
        return ""
    if _language(language) == "fr":
        return f"{text}{NBSP}€"
    sign, digits = ("-", text[1:]) if text.startswith("-") else ("", text)
    return f"{sign}€{digits}"


def _paris(moment: dt.datetime) -> dt.datetime:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC) if settings.USE_TZ else moment.replace(tzinfo=PARIS)
    return moment.astimezone(PARIS)


def date(day: dt.date | dt.datetime | None, *, language: str | None = None) -> str:
    """``1er juin 2027`` / ``1 June 2027``; an instant is first put on the Paris clock. ``None`` gives ``""``."""
    if day is None or day == "":
        return ""
    if isinstance(day, dt.datetime):
        day = _paris(day).date()
    code = _language(language)
    with translation.override(code):
        month = str(MONTHS[day.month])
    if code == "fr":
        first = "1er" if day.day == 1 else str(day.day)
        return f"{first}{NBSP}{month.lower()}{NBSP}{day.year}"
    return f"{day.day}{NBSP}{month} {day.year}"


def time(moment: dt.datetime | dt.time | None, *, seconds: bool = False) -> str:
    """``13:00`` (``13:00:05`` with ``seconds``) on the Paris clock, 24 hours in both languages."""
    if moment is None or moment == "":
        return ""
    if isinstance(moment, dt.datetime):
        moment = _paris(moment)
    return f"{moment.hour:02d}:{moment.minute:02d}" + (f":{moment.second:02d}" if seconds else "")


def datetime(moment: dt.datetime | None, *, zone: bool = True, seconds: bool = False, offset: bool = False,
             language: str | None = None) -> str:
    """``1er juin 2027 à 13:00 (heure de Paris)`` / ``1 June 2027, 13:00 (Paris time)``; ``zone=False``
    where the sentence around it already says "Paris time"; ``seconds`` and ``offset`` (``heure de Paris,
    UTC+01:00``) for receipts, which prove an instant to whoever reads them. ``None`` gives ``""``."""
    if moment is None or moment == "":
        return ""
    local = _paris(moment)
    code = _language(language)
    shift = local.strftime("%z")
    utc = f", UTC{shift[:3]}:{shift[3:]}" if offset else ""
    if code == "fr":
        text = f"{date(local, language=code)} à {time(local, seconds=seconds)}"
        return f"{text} (heure de Paris{utc})" if zone else text
    text = f"{date(local, language=code)}, {time(local, seconds=seconds)}"
    return f"{text} (Paris time{utc})" if zone else text


def percent(ratio, *, decimals: int = 1, language: str | None = None) -> str:
    """A ratio (``0.125``) as ``12,5 %`` / ``12.5%`` (French puts a no-break space before the sign).
    ``None`` gives ``""``."""
    amount = _decimal(ratio)
    if amount is None:
        return ""
    text = number(amount * 100, decimals=decimals, language=language)
    return f"{text}{NBSP}%" if _language(language) == "fr" else f"{text}%"
