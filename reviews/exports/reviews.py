"""The reviews of the admin's list as an Excel workbook: a *Reviews* sheet (one row per review: the proposal, the
reviewer, the assignment's dates, a column per criterion, the weighted total, the recommendation and the
comments) and a *Conflicts* sheet (the conflicts of interest declared, set or detected on those proposals).

Who wrote a review shows only where ``reviews.rules.can_see_reviewer_identity`` holds (the directorate, the
panel's officers); elsewhere the reviewers of a proposal are "Reviewer 1, 2…" in the order they were assigned,
and the confidential comment stays out. One query and two prefetches for the reviews, one for the conflicts.
"""

import datetime as dt

from django.db.models import Count, IntegerField, OuterRef, Prefetch, QuerySet, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from iea.formats import XLSX_NUMBER
from iea.spreadsheets import Sheet

from ..domain.conflicts import cause_label
from ..domain.readiness import weighted_total
from ..models import Assignment, Conflict, Panel, Recommendation, Review, Score
from ..rules import can_see_reviewer_identity

__all__ = ["review_sheets"]


def _number_in_proposal():
    """The review's reviewer's place among the proposal's assignments (1, 2…), the same in any export."""
    earlier = (Assignment.objects.filter(proposal=OuterRef("proposal_id"), pk__lte=OuterRef("assignment_id"))
               .order_by().values("proposal").annotate(n=Count("pk")).values("n")[:1])
    return Subquery(earlier, output_field=IntegerField())


def export_queryset(queryset: QuerySet) -> QuerySet:
    return (
        queryset.select_related(
            "proposal__unit__main_institute", "proposal__evaluating_institute", "reviewer__user",
            "assignment__panel__institute",
        )
        .prefetch_related(Prefetch("scores", queryset=Score.objects.select_related("criterion")))
        .annotate(number_in_proposal=_number_in_proposal())
    )


def _days_late(assignment: Assignment, submitted_at: dt.datetime | None, now: dt.datetime) -> int:
    end = submitted_at or now
    return max(0, (end - assignment.due_at).days) if end > assignment.due_at else 0


class _Identity:
    """``can_see_reviewer_identity`` asked once per panel, not once per row."""

    def __init__(self, user):
        self.user, self.known = user, {}

    def __call__(self, panel: Panel) -> bool:
        if panel.pk not in self.known:
            self.known[panel.pk] = can_see_reviewer_identity(self.user, panel)
        return self.known[panel.pk]


def review_sheets(queryset: QuerySet, *, user, now: dt.datetime | None = None) -> list[Sheet]:
    """The *Reviews* and *Conflicts* sheets of the reviews of ``queryset`` (already what ``user`` may see)."""
    now = now or timezone.now()
    reviews = list(export_queryset(queryset))
    identity = _Identity(user)
    criteria = {}  # position -> the label of the latest call's criterion at that position
    for review in sorted(reviews, key=lambda r: -r.proposal.call_id):
        for score in review.scores.all():
            criteria.setdefault(score.criterion.position, score.criterion)
    positions = sorted(criteria)
    headers = [
        _("Reference"), _("Institute"), _("Reviewer"), _("Reviewer's e-mail"), _("Institution"),
        _("External to CNRS"), _("Assignment"), _("Invited at"), _("Due"), _("Answered at"), _("Review"),
        _("Submitted at"), _("Days late"),
        *[f"{position}. {criteria[position].label}" for position in positions],
        _("Weighted total"), _("Recommendation"), _("Comment for the PI"), _("Confidential comment"),
    ]
    first_score = headers.index(_("Days late")) + 1
    numbers = dict.fromkeys(range(first_score, first_score + len(positions) + 1), XLSX_NUMBER)

    def row(review: Review) -> list:
        assignment, proposal, reviewer = review.assignment, review.proposal, review.reviewer
        institute = proposal.institute
        scores = {score.criterion.position: score for score in review.scores.all()}
        given = {score.criterion_id: score.score for score in scores.values() if score.score is not None}
        weights = {score.criterion_id: score.criterion.weight for score in scores.values()}
        total = weighted_total(given, weights)
        if identity(assignment.panel):
            who = [reviewer.user.get_full_name(), reviewer.user.email, reviewer.institution,
                   _("yes") if reviewer.external else _("no")]
            confidential = review.confidential_comment
        else:
            who = [_("Reviewer %(number)s") % {"number": review.number_in_proposal}, "", "", ""]
            confidential = ""
        return [
            proposal.reference, institute.code if institute else "", *who,
            assignment.get_state_display(), assignment.created_at, assignment.due_at, assignment.responded_at,
            review.get_state_display(), review.submitted_at, _days_late(assignment, review.submitted_at, now),
            *[scores[position].score if position in scores else None for position in positions],
            None if total is None else round(total, 2),
            Recommendation(review.recommendation).label if review.recommendation else "",
            review.comment_for_pi, confidential,
        ]

    conflicts = (Conflict.objects.filter(proposal__in=queryset.order_by().values("proposal_id"))
                          .select_related("proposal", "reviewer__user", "created_by")
                 .order_by("proposal__reference", "created_at", "pk"))
    conflict_headers = [_("Reference"), _("Reviewer"), _("Reviewer's e-mail"), _("Source"), _("Cause"), _("Detail"),
                        _("Recorded at"), _("Recorded by")]
    panels = {review.proposal_id: review.assignment.panel for review in reviews}

    def conflict_row(conflict: Conflict) -> list:
        panel = panels.get(conflict.proposal_id)
        shown = panel is not None and identity(panel)
        return [
            conflict.proposal.reference,
            conflict.reviewer.user.get_full_name() if shown else "—", conflict.reviewer.user.email if shown else "",
            conflict.get_source_display(), cause_label(conflict.cause), conflict.detail, conflict.created_at,
            conflict.created_by.get_full_name() if shown and conflict.created_by else "",
        ]

    return [
        Sheet(_("Reviews"), headers, (row(review) for review in reviews), numbers),
        Sheet(_("Conflicts"), conflict_headers, (conflict_row(conflict) for conflict in conflicts)),
    ]
