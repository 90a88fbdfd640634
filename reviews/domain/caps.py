"""The most reviews a reviewer takes in a panel (issue #20): a default per panel (``Panel.default_max_reviews``)
and a maximum per reviewer (``ReviewerCap``) that overrides it. Automatic assignment never goes above it
(``matching``); an officer assigning by hand is warned, not stopped (``cap_warning``).

A maximum below what the reviewer already has open is accepted, with a warning: it stops further automatic
assignments, and never withdraws what was asked (the officer does that, reviewer by reviewer, if they mean to).
"""

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Count, Prefetch, Q
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from iea.audit.domain import audit_record
from iea.errors import DomainError

from ..models import Assignment, Panel, Reviewer, ReviewerCap, Unavailability
from ..rules import OPEN_ASSIGNMENT_STATES
from .availability import away_text, coming_absences, review_period

# A ceiling on what an officer may type: a reviewer with more reviews than this in one call is a typing slip.
HIGHEST_CAP = 200


@dataclass(frozen=True)
class CapResult:
    max_reviews: int | None  # what is now set (None: no maximum of this kind)
    warning: str  # '' or what the officer should know (reviewers already above it)


def _checked(max_reviews: int | None) -> int | None:
    if max_reviews is None:
        return None
    if not 1 <= max_reviews <= HIGHEST_CAP:
        raise DomainError(_("A maximum of reviews is a whole number from 1 to %(highest)d; leave it empty for no "
                            "maximum.") % {"highest": HIGHEST_CAP}, code="cap_range")
    return max_reviews


def _loads(panel: Panel, reviewer_ids=None) -> dict[int, int]:
    assignments = Assignment.objects.filter(panel=panel, state__in=OPEN_ASSIGNMENT_STATES)
    if reviewer_ids is not None:
        assignments = assignments.filter(reviewer_id__in=reviewer_ids)
    return dict(assignments.values_list("reviewer_id").annotate(n=Count("id")).order_by())


def panel_default_cap_set(*, panel_id: int, user, max_reviews: int | None, now: dt.datetime) -> CapResult:
    """Set the panel's default maximum of reviews per reviewer (None: none beyond the balance of loads).
    Audited; the panel's row is locked so two officers' changes are recorded one after the other."""
    max_reviews = _checked(max_reviews)
    with transaction.atomic():
        panel = Panel.objects.select_for_update(no_key=True).get(pk=panel_id)
        before = panel.default_max_reviews
        if before == max_reviews:
            return CapResult(max_reviews, "")
        panel.default_max_reviews = max_reviews
        panel.save(update_fields=["default_max_reviews"])
        audit_record(actor=user, target=panel, action="panel.default_cap", now=now,
                     data={"from": before, "to": max_reviews})
        above = 0
        if max_reviews is not None:
            own = set(ReviewerCap.objects.filter(panel=panel).values_list("reviewer_id", flat=True))
            above = sum(1 for reviewer_id, load in _loads(panel).items() if reviewer_id not in own and load > max_reviews)
    warning = ngettext(
        "%(count)d reviewer already has more open reviews than that: nothing is withdrawn, they just get no more.",
        "%(count)d reviewers already have more open reviews than that: nothing is withdrawn, they just get no more.",
        above) % {"count": above} if above else ""
    return CapResult(max_reviews, warning)


def reviewer_cap_set(*, panel_id: int, reviewer_id: int, user, max_reviews: int | None, now: dt.datetime) -> CapResult:
    """Set one reviewer's maximum of reviews in the panel, overriding its default (None: back to the default).
    The reviewer must be in the institute's pool. Audited; race-safe (the panel's row lock, and one row per
    panel and reviewer in the database)."""
    max_reviews = _checked(max_reviews)
    with transaction.atomic():
        panel = Panel.objects.select_for_update(no_key=True).get(pk=panel_id)
        reviewer = Reviewer.objects.filter(pk=reviewer_id, institute_id=panel.institute_id).first()
        if reviewer is None:
            raise DomainError(_("This reviewer is not in the institute's pool."), code="not_in_pool")
        current = ReviewerCap.objects.filter(panel=panel, reviewer=reviewer).first()
        before = current.max_reviews if current else None
        if before == max_reviews:
            return CapResult(max_reviews, "")
        if max_reviews is None:
            current.delete()
        else:
            ReviewerCap.objects.update_or_create(panel=panel, reviewer=reviewer, defaults={"max_reviews": max_reviews})
        audit_record(actor=user, target=reviewer, action="panel.reviewer_cap", now=now,
                     data={"panel": panel.pk, "from": before, "to": max_reviews})
        load = _loads(panel, [reviewer.pk]).get(reviewer.pk, 0)
    limit = max_reviews if max_reviews is not None else panel.default_max_reviews
    warning = _("They already have %(load)d open reviews in this panel: nothing is withdrawn, they just get no "
                "more.") % {"load": load} if limit is not None and load > limit else ""
    return CapResult(max_reviews, warning)


def panel_caps(panel: Panel, reviewer_ids=None) -> dict[int, int]:
    """The maximum of each reviewer of the pool who has one: their own, else the panel's default (every reviewer
    of ``reviewer_ids`` then). One query."""
    own = ReviewerCap.objects.filter(panel=panel)
    if reviewer_ids is not None:
        own = own.filter(reviewer_id__in=reviewer_ids)
    caps = dict(own.values_list("reviewer_id", "max_reviews"))
    if panel.default_max_reviews is not None and reviewer_ids is not None:
        return {reviewer_id: caps.get(reviewer_id, panel.default_max_reviews) for reviewer_id in reviewer_ids}
    return caps


def cap_warning(*, panel: Panel, reviewer: Reviewer, adding: int) -> str:
    """What an officer assigning ``adding`` more reviews by hand to ``reviewer`` should know about their maximum
    ('' if nothing): a warning, never a refusal — the officer knows the reviewer and may go above it."""
    cap = ReviewerCap.objects.filter(panel=panel, reviewer=reviewer).values_list("max_reviews", flat=True).first()
    cap = cap if cap is not None else panel.default_max_reviews
    if cap is None:
        return ""
    load = Assignment.objects.filter(Q(panel=panel, reviewer=reviewer, state__in=OPEN_ASSIGNMENT_STATES)).count()
    if load + adding <= cap:
        return ""
    return _("%(reviewer)s now has %(load)d open reviews in this panel, above their maximum of %(cap)d.") % {
        "reviewer": reviewer.user, "load": load + adding, "cap": cap}


def pool_caps_and_absences(panel: Panel, reviewers, now: dt.datetime) -> list[Reviewer]:
    """The pool's rows with, on each reviewer, ``own_cap`` (their ``ReviewerCap`` or None), ``cap`` (the one that
    applies) and ``away`` ("away 3–20 March…", the periods not over yet). Two queries whatever the pool's size."""
    rows = list(reviewers.prefetch_related(
        Prefetch("caps", ReviewerCap.objects.filter(panel=panel), to_attr="panel_caps"), coming_absences(now),
    ))
    for reviewer in rows:
        reviewer.own_cap = reviewer.panel_caps[0].max_reviews if reviewer.panel_caps else None
        reviewer.cap = reviewer.own_cap if reviewer.own_cap is not None else panel.default_max_reviews
        reviewer.away = away_text(reviewer.user.coming_absences)
    return rows


def assignment_warnings(*, panel: Panel, reviewer: Reviewer, adding: int, now: dt.datetime) -> list[str]:
    """What an officer assigning by hand should know — above the reviewer's maximum, away during the review
    period — as warnings: the officer may go ahead (they know the reviewer; automatic assignment is what the
    rules bind). Three queries."""
    warnings = [text] if (text := cap_warning(panel=panel, reviewer=reviewer, adding=adding)) else []
    start, end = review_period(panel, now)
    periods = Unavailability.objects.filter(user_id=reviewer.user_id, starts_on__lte=end, ends_on__gte=start)
    if away := away_text(periods.order_by("starts_on")):
        warnings.append(_("%(reviewer)s told the officers they are %(away)s, during the review period.") % {
            "reviewer": reviewer.user, "away": away})
    return warnings
