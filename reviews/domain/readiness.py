"""What a decision needs: the panel's completed reviews, its recommendation, and the thresholds.

A proposal is decided on its evaluation (domain.md, "Review": at least N non-conflicted completed reviews,
default 2; the officer recommends). Each criterion of the call may have a threshold, and the call an
overall one on the weighted total of the criterion means (domain.md, "The six evaluation criteria":
"thresholds per criterion and overall", config). A proposal under one of them is flagged to the officer
and to staff; the officer cannot recommend funding it, and staff can select it only with a reason.
The same numbers as the officer's panel table: the mean of the counted reviews' scores per criterion,
and ``weighted_total`` of those means.
"""

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Avg, Exists, OuterRef
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from calls.models import Call, Criterion
from iea import formats

from ..models import Conflict, Panel, PanelRecommendation, ReviewState, Score
from .evaluation import counted_reviews


def weighted_total(scores: dict[int, Decimal], weights: dict[int, Decimal]) -> Decimal | None:
    """Σ wᵢ·sᵢ / Σ wᵢ over the criteria that have a score: stays on the criteria's 0–5 scale."""
    total_weight = sum((weights[c] for c in scores), Decimal(0))
    if not scores or total_weight == 0:
        return None
    return sum((weights[c] * s for c, s in scores.items()), Decimal(0)) / total_weight


@dataclass(frozen=True)
class ThresholdMiss:
    """A threshold a proposal does not reach: a criterion's (``criterion`` set) or the call's overall one."""

    criterion: Criterion | None
    mean: Decimal
    threshold: Decimal

    @property
    def label(self) -> str:
        return str(self.criterion.label) if self.criterion is not None else _("overall weighted total")

    def __str__(self) -> str:
        return _("%(label)s: %(mean)s, under the threshold of %(threshold)s") % {
            "label": self.label, "mean": formats.number(self.mean),
            "threshold": formats.number(self.threshold),
        }


def threshold_misses(*, means: dict[int, Decimal], criteria: list[Criterion], call: Call,
                     total: Decimal | None = None) -> list[ThresholdMiss]:
    """The thresholds that the criterion means (criterion id → mean) miss, criteria in their order, then
    the overall one. A criterion nobody scored misses nothing: there is nothing to judge yet. ``total``:
    the weighted total of these means when the caller has it already (the panel table's kept figure)."""
    misses = [
        ThresholdMiss(criterion=criterion, mean=means[criterion.pk], threshold=criterion.threshold)
        for criterion in criteria
        if criterion.threshold is not None and criterion.pk in means and means[criterion.pk] < criterion.threshold
    ]
    if call.overall_threshold is not None:
        if total is None:
            total = weighted_total(means, {criterion.pk: criterion.weight for criterion in criteria})
        if total is not None and total < call.overall_threshold:
            misses.append(ThresholdMiss(criterion=None, mean=total, threshold=call.overall_threshold))
    return misses


def criterion_means(proposal_ids) -> dict[int, dict[int, Decimal]]:
    """Proposal id → criterion id → mean score of the counted reviews (submitted, not in conflict): one query."""
    rows = (
        Score.objects.filter(review__proposal_id__in=proposal_ids, review__state=ReviewState.SUBMITTED,
                             score__isnull=False)
        .exclude(Exists(Conflict.objects.filter(proposal_id=OuterRef("review__proposal_id"),
                                                reviewer_id=OuterRef("review__reviewer_id"))))
        .values_list("review__proposal_id", "criterion_id").annotate(mean=Avg("score")).order_by()
    )
    means: dict[int, dict[int, Decimal]] = defaultdict(dict)
    for proposal_id, criterion_id, mean in rows:
        means[proposal_id][criterion_id] = Decimal(mean)
    return means


def proposal_threshold_misses(proposal) -> list[ThresholdMiss]:
    """The thresholds one proposal misses (two queries)."""
    criteria = list(Criterion.objects.filter(call_id=proposal.call_id).order_by("position"))
    return threshold_misses(means=criterion_means([proposal.pk]).get(proposal.pk, {}), criteria=criteria,
                            call=proposal.call)


def reviews_needed(*, call: Call, panel: Panel | None) -> int:
    """The completed reviews a proposal needs: its panel's number, else the call's."""
    return panel.reviews_per_proposal if panel is not None else call.reviews_per_proposal


@dataclass(frozen=True)
class Readiness:
    """Whether a proposal's evaluation is complete enough to decide on it, and what is missing."""

    reviews_done: int
    reviews_needed: int
    recommended: bool
    misses: tuple[ThresholdMiss, ...] = ()

    @property
    def reviews_missing(self) -> int:
        return max(0, self.reviews_needed - self.reviews_done)

    def gaps(self, *, selecting: bool) -> list[str]:
        """What stands in the way of the decision, in words; the thresholds only matter for a selection."""
        gaps = []
        if self.reviews_missing:
            gaps.append(ngettext(
                "%(missing)s of %(needed)s review is missing", "%(missing)s of %(needed)s reviews are missing",
                self.reviews_needed,
            ) % {"missing": self.reviews_missing, "needed": self.reviews_needed})
        if not self.recommended:
            gaps.append(_("the panel has not recommended"))
        if selecting:
            gaps.extend(str(miss) for miss in self.misses)
        return gaps


def proposal_readiness(proposal, *, panel: Panel | None) -> Readiness:
    """The readiness of one proposal, read from the database (for the domain's checks)."""
    return Readiness(
        reviews_done=counted_reviews().filter(proposal_id=proposal.pk).count(),
        reviews_needed=reviews_needed(call=proposal.call, panel=panel),
        recommended=PanelRecommendation.objects.filter(proposal_id=proposal.pk).exclude(recommendation="").exists(),
        misses=tuple(proposal_threshold_misses(proposal)),
    )


def thresholds_in_words(*, call: Call, criteria: list[Criterion]) -> list[str]:
    """The call's thresholds as the officer's table and the reviewer's guidance state them."""
    words = [
        _("%(label)s: %(threshold)s of %(max)s") % {
            "label": criterion.label, "threshold": formats.number(criterion.threshold),
            "max": formats.number(criterion.scale_max)}
        for criterion in criteria if criterion.threshold is not None
    ]
    if call.overall_threshold is not None:
        words.append(_("overall weighted total: %(threshold)s") % {"threshold": formats.number(call.overall_threshold)})
    return words
