"""The panel table as it was computed before its figures moved to the database (issue #18): every row in
Python from every submitted score of the panel, then filtered and sorted in Python. Kept as the reference
the database's figures, filters and order are checked against (tests/reviews/test_panel_figures.py):
straightforward, exact (``Decimal``), and slow."""

import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Exists, OuterRef

from calls.models import InstitutePriority
from reviews.domain.panel import PANEL_STATES
from reviews.domain.panel_table import DISAGREEMENT_THRESHOLD, NO_RECOMMENDATION, Row
from reviews.domain.priorities import priority_match
from reviews.domain.readiness import threshold_misses, weighted_total
from reviews.models import Conflict, Panel, Recommendation, ReviewState, Score
from reviews.rules import panel_proposals


@dataclass
class ReferenceRow(Row):
    """A row as the table shows it, with the reviewers' weighted totals it was computed from."""

    reviewer_totals: list[Decimal] = field(default_factory=list)


def _z_scores(totals_by_reviewer: dict[int, list[tuple[int, Decimal]]]) -> dict[int, float]:
    z: dict[int, float] = {}
    for items in totals_by_reviewer.values():
        values = [float(total) for _, total in items]
        sd = statistics.pstdev(values) if len(values) >= 2 else 0.0
        mean = statistics.fmean(values)
        for review_id, total in items:
            z[review_id] = (float(total) - mean) / sd if sd > 0 else 0.0
    return z


def _submitted_reviews(panel: Panel):
    rows = (
        Score.objects.filter(
            review__state=ReviewState.SUBMITTED, review__proposal__call_id=panel.call_id,
            review__reviewer__institute_id=panel.institute_id, score__isnull=False,
        )
        .exclude(Exists(Conflict.objects.filter(proposal_id=OuterRef("review__proposal_id"),
                                                reviewer_id=OuterRef("review__reviewer_id"))))
        .values_list("review_id", "review__proposal_id", "review__reviewer_id", "criterion_id", "score")
        .order_by()
    )
    reviews: dict[int, tuple[int, int, dict[int, Decimal]]] = {}
    for review_id, proposal_id, reviewer_id, criterion_id, score in rows:
        reviews.setdefault(review_id, (proposal_id, reviewer_id, {}))[2][criterion_id] = score
    return reviews


def reference_table(*, panel: Panel, user) -> list[ReferenceRow]:
    """Every row of the panel the user may see, in reference order."""
    criteria = list(panel.call.criteria.order_by("position"))
    weights = {criterion.pk: criterion.weight for criterion in criteria}
    proposals = list(
        panel_proposals(panel, user).filter(state__in=PANEL_STATES)
        .select_related("pi", "panel_recommendation").order_by("reference")
    )
    priority = InstitutePriority.objects.filter(call_id=panel.call_id, institute_id=panel.institute_id).first()
    reviews = _submitted_reviews(panel)

    totals_by_reviewer: dict[int, list[tuple[int, Decimal]]] = defaultdict(list)
    reviews_by_proposal: dict[int, list[tuple[int, dict[int, Decimal], Decimal | None]]] = defaultdict(list)
    for review_id, (proposal_id, reviewer_id, scores) in reviews.items():
        total = weighted_total(scores, weights)
        if total is not None:
            totals_by_reviewer[reviewer_id].append((review_id, total))
        reviews_by_proposal[proposal_id].append((review_id, scores, total))
    z = _z_scores(totals_by_reviewer)

    rows = []
    for proposal in proposals:
        own = reviews_by_proposal.get(proposal.pk, [])
        means: dict[int, Decimal] = {}
        for criterion in criteria:
            given = [scores[criterion.pk] for _, scores, _ in own if criterion.pk in scores]
            if given:
                means[criterion.pk] = sum(given, Decimal(0)) / len(given)
        totals = sorted(total for _, _, total in own if total is not None)
        spread = totals[-1] - totals[0] if totals else None
        zs = [z[review_id] for review_id, _, total in own if total is not None]
        rows.append(ReferenceRow(
            proposal=proposal,
            threshold_misses=threshold_misses(means=means, criteria=criteria, call=panel.call),
            criterion_means=[means.get(criterion.pk) for criterion in criteria],
            weighted_total=weighted_total(means, weights),
            median=statistics.median(totals) if totals else None,
            spread=spread,
            disagreement=len(totals) >= 2 and spread >= DISAGREEMENT_THRESHOLD,
            calibrated=statistics.fmean(zs) if zs else None,
            reviewer_totals=totals,
            reviews_done=len(own),
            reviews_expected=panel.reviews_per_proposal,
            priority=priority_match(proposal, priority),
            recommendation=getattr(proposal, "panel_recommendation", None),
        ))
    return rows


def reference_filter(rows, *, disagreement=False, incomplete=False, priority=False, recommendation: str = "",
                     under_threshold=False):
    return [
        row for row in rows
        if (not disagreement or row.disagreement)
        and (not incomplete or row.incomplete)
        and (not priority or row.priority.matched)
        and (not under_threshold or row.threshold_misses)
        and (not recommendation or row.recommended == ("" if recommendation == NO_RECOMMENDATION else recommendation))
    ]


_RECOMMENDATION_ORDER = {Recommendation.FUND: 0, Recommendation.RESERVE: 1, Recommendation.REJECT: 2}


def _keys(criteria) -> dict:
    keys = {
        "reference": lambda row: row.proposal.reference,
        "acronym": lambda row: (row.proposal.acronym or row.proposal.title).casefold(),
        "total": lambda row: row.weighted_total,
        "median": lambda row: row.median,
        "spread": lambda row: row.spread,
        "calibrated": lambda row: row.calibrated,
        "reviews": lambda row: row.reviews_done,
        "priority": lambda row: row.priority.matched,
        "rank": lambda row: row.rank,
        "recommendation": lambda row: _RECOMMENDATION_ORDER.get(row.recommended),
        "amount": lambda row: row.recommendation.proposed_amount if row.recommendation else None,
    }
    for index, criterion in enumerate(criteria):
        keys[f"c{criterion.position}"] = lambda row, index=index: row.criterion_means[index]
    return keys


def _to_9_places(value):
    """The figures compared at 9 decimals, as the table keeps them. The old sort compared the 28-digit
    ``Decimal`` results themselves, so two medians both equal to 5/6 — 0.83…33 from one review's total,
    0.83…35 from the mean of 2/3 and 1 — were ordered by rounding noise instead of by reference."""
    if isinstance(value, Decimal | float) and not isinstance(value, bool):
        return Decimal(repr(value) if isinstance(value, float) else value).quantize(Decimal("1e-9"))
    return value


def reference_sort(rows, sort: str, criteria):
    """Empty values last either way, the reference breaks ties; an unknown key sorts by ``-total``."""
    keys = _keys(criteria)
    name = (sort or "").removeprefix("-")
    if name not in keys:
        sort, name = "-total", "total"
    exact = keys[name]

    def value(row):
        return _to_9_places(exact(row))

    by_reference = sorted(rows, key=lambda row: row.proposal.reference)
    filled = [row for row in by_reference if value(row) is not None]
    empty = [row for row in by_reference if value(row) is None]
    return sorted(filled, key=value, reverse=sort.startswith("-")) + empty, sort
