"""When a reviewer cannot review (issue #20): the dates they are away, which they keep themselves
(``reviewer:availability``), and the rule automatic assignment applies to them.

The rule: automatic assignment does not ask a reviewer who is away for **more than half of the review
period** — from today to the panel's due date (``Panel.review_due_at``, else the default due date of a new
assignment, ``assignment.default_due_at``), both days counted. Shorter absences are the reviewer's to plan
around; an officer assigning by hand is told, not stopped (``away_text``).
"""

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Prefetch
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from iea.audit.domain import audit_record
from iea.errors import DomainError

from ..models import Panel, Unavailability
from .assignment import default_due_at

# The longest period one entry may cover: longer is a typing slip (a year typed wrong).
LONGEST_DAYS = 366
NOTE_LENGTH = 200


def unavailability_add(*, user, starts_on: dt.date, ends_on: dt.date, note: str = "", now: dt.datetime) -> Unavailability:
    """Record dates ``user`` cannot review. Refused: the end before the start, a period wholly in the past,
    one longer than a year, or one overlapping a period already recorded (change that one instead). Audited;
    the user's row is locked so two tabs cannot record overlapping periods."""
    today = timezone.localdate(now)
    note = (note or "").strip()
    if ends_on < starts_on:
        raise DomainError(_("The last day comes before the first one."), code="order")
    if ends_on < today:
        raise DomainError(_("This period is over: only dates from today on are useful."), code="past")
    if (ends_on - starts_on).days + 1 > LONGEST_DAYS:
        raise DomainError(_("A period covers at most a year; add another one for the rest."), code="too_long")
    if len(note) > NOTE_LENGTH:
        raise DomainError(_("The note is too long (%(limit)d characters at most).") % {"limit": NOTE_LENGTH},
                          code="note")
    with transaction.atomic():
        get_user_model().objects.select_for_update().filter(pk=user.pk).first()  # one writer per person
        overlapping = Unavailability.objects.filter(user=user, starts_on__lte=ends_on, ends_on__gte=starts_on).first()
        if overlapping is not None:
            raise DomainError(_("It overlaps the period %(period)s already recorded: delete that one first, or "
                                "choose other dates.") % {"period": period_text(overlapping)}, code="overlap")
        entry = Unavailability.objects.create(user=user, starts_on=starts_on, ends_on=ends_on, note=note)
        audit_record(actor=user, target=user, action="reviewer.unavailability_add", now=now,
                     data={"id": entry.pk, "from": starts_on.isoformat(), "to": ends_on.isoformat()})
    return entry


def unavailability_delete(*, user, unavailability_id: int, now: dt.datetime) -> None:
    """Delete one of ``user``'s own periods (someone else's is "not found"). Audited."""
    with transaction.atomic():
        entry = Unavailability.objects.select_for_update().filter(pk=unavailability_id, user=user).first()
        if entry is None:
            raise DomainError(_("This period no longer exists."), code="not_found")
        audit_record(actor=user, target=user, action="reviewer.unavailability_delete", now=now,
                     data={"id": entry.pk, "from": entry.starts_on.isoformat(), "to": entry.ends_on.isoformat()})
        entry.delete()


def review_period(panel: Panel, now: dt.datetime) -> tuple[dt.date, dt.date]:
    """Today and the day reviews are due (today if that is past), in Paris time."""
    today = timezone.localdate(now)
    return today, max(today, timezone.localdate(default_due_at(panel, now)))


def users_away(*, user_ids: Iterable[int], start: dt.date, end: dt.date) -> set[int]:
    """Those of ``user_ids`` away for more than half of the days from ``start`` to ``end`` (both counted).
    One query."""
    days = (end - start).days + 1
    away: defaultdict[int, set[dt.date]] = defaultdict(set)
    for user_id, first, last in Unavailability.objects.filter(
            user_id__in=list(user_ids), starts_on__lte=end, ends_on__gte=start).values_list("user_id", "starts_on", "ends_on"):
        first, last = max(first, start), min(last, end)
        away[user_id].update(first + dt.timedelta(days=n) for n in range((last - first).days + 1))
    return {user_id for user_id, dates in away.items() if 2 * len(dates) > days}


def period_text(entry: Unavailability) -> str:
    """"3 March 2027 – 20 March 2027" in the reader's language."""
    return _("%(first)s – %(last)s") % {"first": formats.date_format(entry.starts_on, "DATE_FORMAT"),
                                         "last": formats.date_format(entry.ends_on, "DATE_FORMAT")}


def away_text(entries: Iterable[Unavailability]) -> str:
    """"away 3 March 2027 – 20 March 2027; …" for the periods given (the officer's pool and choices)."""
    periods = [period_text(entry) for entry in entries]
    return _("away %(periods)s") % {"periods": "; ".join(periods)} if periods else ""


def coming_absences(now: dt.datetime) -> Prefetch:
    """For a queryset of reviewers: each one's ``user.coming_absences``, the periods not over yet, first first
    (the pool's rows and the officer's choice of a reviewer show them). One query for any number of reviewers."""
    return Prefetch("user__unavailabilities", Unavailability.objects.filter(ends_on__gte=timezone.localdate(now))
                    .order_by("starts_on"), to_attr="coming_absences")
