"""The registry of kinds of message and of reminder schedules.

Each app declares, in ``<app>/notifications.py``, the messages it sends (``register(Kind(...))``) and
the reminders it schedules (``@schedule``). The outbox (``domain.py``) knows nothing of proposals,
reviews or awards: it records rows, claims them and asks their kind to render them.
"""

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import models
from django.utils import formats, timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import ngettext


@dataclass(frozen=True)
class Kind:
    """A kind of message.

    ``context(target, notification)`` gives the template context (with ``url``, the page the message
    links to); ``skip(target, notification, now)`` says why a recorded message should no longer go out
    (the draft was submitted, the review came in…) or returns ""; ``attachments(target, notification)``
    gives ``(filename, bytes, mimetype)`` tuples, rendered in the recipient's language.
    """

    name: str
    label: str | Promise
    template: str | None
    model: type[models.Model] | None
    context: Callable[[Any, Any], dict]
    select_related: tuple[str, ...] = ()
    prefetch_related: tuple[str, ...] = ()
    skip: Callable[[Any, Any, dt.datetime], str] | None = None
    attachments: Callable[[Any, Any], list[tuple[str, bytes, str]]] | None = None
    headers: Callable[[Any, Any], dict[str, str]] | None = None
    build: Callable[[Any, Any], Any] | None = None  # a message built without templates (account mail)
    resendable: bool = True


@dataclass(frozen=True)
class Recipient:
    email: str
    language: str
    user: Any = None

    @classmethod
    def of(cls, user) -> "Recipient":
        return cls(email=user.email, language=user.language, user=user)


@dataclass
class Due:
    """A message a schedule finds due: recorded by the dispatcher unless it is already on record."""

    kind: str
    target: models.Model
    recipients: list[Recipient]
    occurrence: str
    due_at: dt.datetime
    params: dict = field(default_factory=dict)


KINDS: dict[str, Kind] = {}
OCCURRENCES: dict[str, str | Promise] = {}  # the occurrences that are words ("published", "closed"), in words
SCHEDULES: list[Callable[[dt.datetime], Iterable[Due]]] = []


def register(kind: Kind) -> Kind:
    if kind.name in KINDS and KINDS[kind.name] != kind:
        raise ValueError(f"Two kinds of notification are named {kind.name!r}.")
    KINDS[kind.name] = kind
    return kind


def schedule(function: Callable[[dt.datetime], Iterable[Due]]):
    """A function of ``now`` yielding the reminders due at that moment (the dispatcher records them)."""
    if function not in SCHEDULES:
        SCHEDULES.append(function)
    return function


def kind_label(name: str) -> str:
    kind = KINDS.get(name)
    return str(kind.label) if kind else name


def register_occurrences(labels: dict[str, str | Promise]) -> None:
    """Label the occurrences an app records as words (``calls``: "published", "opened")."""
    OCCURRENCES.update(labels)


def occurrence_label(occurrence: str) -> str:
    """Which message of its kind a row is, in words: a reminder's step ("7 days before the deadline"), the moment
    of the event it reports, a copy sent again, or a word an app registered; else the code as it is."""
    if not occurrence:
        return "—"
    if occurrence in OCCURRENCES:
        return str(OCCURRENCES[occurrence])
    offset = parse_step(occurrence)
    if offset is not None:
        if offset == 0:
            return _("on the deadline")
        if offset < 0:
            return ngettext("%(count)d day before the deadline", "%(count)d days before the deadline",
                            -offset) % {"count": -offset}
        return ngettext("%(count)d day after the deadline", "%(count)d days after the deadline",
                        offset) % {"count": offset}
    if occurrence.startswith("manual-"):  # iea.notifications.domain.manual_occurrence
        try:
            moment = dt.datetime.strptime(occurrence.removeprefix("manual-"), "%Y%m%dT%H%M").replace(tzinfo=dt.UTC)
        except ValueError:
            return occurrence
        return _("sent by hand on %(when)s") % {"when": formats.localize(timezone.localtime(moment))}
    resend = occurrence.startswith("resend ")
    try:
        moment = dt.datetime.fromisoformat(occurrence.removeprefix("resend "))
    except ValueError:
        return _("one-off message") if len(occurrence) == 32 and occurrence.isalnum() else occurrence
    when = formats.localize(timezone.localtime(moment) if timezone.is_aware(moment) else moment)
    return (_("sent again on %(when)s") if resend else _("event of %(when)s")) % {"when": when}


def parse_offsets(text: str) -> list[int]:
    """ "-14,-7,-1" → [-14, -7, -1] (days relative to a deadline; negative before it), sorted."""
    return sorted({int(part) for part in (text or "").replace(" ", "").split(",") if part})


def current_step(offsets: list[int], reference: dt.datetime, now: dt.datetime) -> tuple[int, dt.datetime] | None:
    """The reminder step due now for a deadline at ``reference``, with its moment, or None.

    Step *i* is due from ``reference + offsets[i]`` days until the next step's moment (the last step
    before the deadline ends at the deadline; a step after it does not end). Only the latest step is
    ever due: after an outage nobody gets the 14-day reminder with 6 days left, and once a step is on
    record a moved deadline does not send it again (its occurrence is the step, not the moment) nor an
    earlier step (the dispatcher drops steps older than the latest on record, ``domain._superseded``).
    """
    moments = [(offset, reference + dt.timedelta(days=offset)) for offset in sorted(offsets)]
    for index, (offset, moment) in enumerate(moments):
        if now < moment:
            continue
        end = moments[index + 1][1] if index + 1 < len(moments) else reference if offset < 0 else None
        if end is None or now < end:
            return offset, moment
    return None


def step_label(offset: int) -> str:
    return f"{offset:+d}d"


def parse_step(occurrence: str) -> int | None:
    """ "-7d" → -7; anything that is not a step label → None."""
    if len(occurrence) >= 3 and occurrence[0] in "+-" and occurrence.endswith("d") and occurrence[1:-1].isdigit():
        return int(occurrence[:-1])
    return None
