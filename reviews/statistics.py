"""The reviewers' statistics of a panel: for each reviewer, the invitations and what became of them, the reviews
submitted (late: after the assignment's due date), those overdue now, the mean weighted total they gave and their
offset to the other reviewers of the same proposals.

Only the reviews that count (``counted_reviews``: submitted, no conflict) enter the totals and offsets; the
weighted total is the panel table's (``readiness.weighted_total`` over the scored criteria). A reviewer's offset
is the mean, over the proposals that have at least one other counted review, of their total minus the mean of the
others' — positive for a generous reviewer. An officer never sees the proposals they are in conflict with
(``rules.not_conflicted``). Three queries whatever the panel's size: assignments, reviewers, scores.
"""

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, F, Q

from .domain.evaluation import counted_reviews
from .domain.readiness import weighted_total
from .models import Assignment, AssignmentState, Panel, Reviewer, ReviewState, Score
from .rules import OPEN_ASSIGNMENT_STATES, not_conflicted


@dataclass(frozen=True)
class ReviewerFigures:
    reviewer: Reviewer
    invited: int
    accepted: int
    declined: int
    conflicts: int
    submitted: int
    late: int
    overdue: int
    mean_total: Decimal | None
    offset: Decimal | None
    compared: int  # the proposals the offset is measured on


def _mean(values) -> Decimal | None:
    values = list(values)
    return sum(values, Decimal(0)) / len(values) if values else None


def reviewer_statistics(*, panel: Panel, user, now: dt.datetime) -> list[ReviewerFigures]:
    """One row per reviewer invited to the panel, by name."""
    submitted = Q(review__state=ReviewState.SUBMITTED)
    assignments = not_conflicted(Assignment.objects.filter(panel=panel), user, "proposal_id")
    counts = {row["reviewer_id"]: row for row in assignments.values("reviewer_id").annotate(
        invited=Count("pk"),
        accepted=Count("pk", filter=Q(state=AssignmentState.ACCEPTED) | submitted),
        declined=Count("pk", filter=Q(state=AssignmentState.DECLINED)),
        conflicts=Count("pk", filter=Q(state=AssignmentState.WITHDRAWN)),
        submitted=Count("pk", filter=submitted),
        late=Count("pk", filter=submitted & Q(review__submitted_at__gt=F("due_at"))),
        overdue=Count("pk", filter=Q(state__in=OPEN_ASSIGNMENT_STATES, due_at__lt=now) & ~submitted),
    ).order_by()}
    reviewers = Reviewer.objects.filter(pk__in=list(counts)).select_related("user").order_by(
        "user__full_name", "user__email")

    reviews = not_conflicted(counted_reviews().filter(assignment__panel=panel), user, "proposal_id")
    scores: dict[int, dict[int, Decimal]] = defaultdict(dict)
    weights: dict[int, Decimal] = {}
    owner: dict[int, tuple[int, int]] = {}
    for review_id, proposal_id, reviewer_id, criterion_id, score, weight in (
            Score.objects.filter(review__in=reviews, score__isnull=False).values_list(
                "review_id", "review__proposal_id", "review__reviewer_id", "criterion_id", "score",
                "criterion__weight")):
        scores[review_id][criterion_id] = score
        weights[criterion_id] = weight
        owner[review_id] = (proposal_id, reviewer_id)
    totals: dict[int, dict[int, Decimal]] = defaultdict(dict)  # proposal → reviewer → weighted total
    for review_id, given in scores.items():
        total = weighted_total(given, weights)
        if total is not None:
            proposal_id, reviewer_id = owner[review_id]
            totals[proposal_id][reviewer_id] = total
    given_by: dict[int, list[Decimal]] = defaultdict(list)
    offsets: dict[int, list[Decimal]] = defaultdict(list)
    for by_reviewer in totals.values():
        for reviewer_id, total in by_reviewer.items():
            given_by[reviewer_id].append(total)
            others = [t for other, t in by_reviewer.items() if other != reviewer_id]
            if others:
                offsets[reviewer_id].append(total - _mean(others))
    return [ReviewerFigures(
        reviewer=reviewer, **{name: counts[reviewer.pk][name] for name in
                              ("invited", "accepted", "declined", "conflicts", "submitted", "late", "overdue")},
        mean_total=_mean(given_by[reviewer.pk]), offset=_mean(offsets[reviewer.pk]),
        compared=len(offsets[reviewer.pk]),
    ) for reviewer in reviewers]
