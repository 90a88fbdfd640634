"""The institute officer's panel (domain.md, "Actors": institute officer): the panel table that sums up
the reviews, and the consensus, recommendation and ranking. The reviewer pool is in ``reviews.domain.pool``.

Writes check ``reviews.rules`` themselves, lock what two officers could change at once, and leave an
audit entry. The panel table is a read: a fixed number of queries whatever the size of the panel.
"""

import datetime as dt
import re
import statistics
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext as _

from calls.models import InstitutePriority
from iea import formats
from iea.audit.domain import audit_record
from proposals.models import Proposal, ProposalState

from ..models import Conflict, Panel, PanelRecommendation, Recommendation, ReviewState, Score
from ..rules import can_manage_panel, can_recommend, panel_of, panel_proposals
from .readiness import ThresholdMiss, proposal_threshold_misses, threshold_misses, weighted_total

# A proposal whose reviewers' weighted totals differ by this much (0–5 scale) needs a discussion.
DISAGREEMENT_THRESHOLD = Decimal("1.5")
# The proposals a panel deals with: screened eligible, and everything that follows.
PANEL_STATES = [
    ProposalState.ELIGIBLE, ProposalState.IN_REVIEW, ProposalState.RANKED, ProposalState.SELECTED,
    ProposalState.RESERVE, ProposalState.REJECTED, ProposalState.FUNDED,
]
# The officer recommends while the review runs; once the directorate has decided, the panel's word is final.
RECOMMENDABLE_STATES = [ProposalState.IN_REVIEW, ProposalState.RANKED]



def _forbidden():
    return ValidationError(_("You do not run this panel."), code="forbidden")


# ---------------------------------------------------------------------------------------------------
# The panel table
# ---------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class PriorityMatch:
    """Why a proposal matches the institute's priorities for the call: the partner's country, or keywords
    of the proposal found in the priority themes."""

    country: str = ""
    keywords: tuple[str, ...] = ()

    @property
    def matched(self) -> bool:
        return bool(self.country or self.keywords)


@dataclass
class Row:
    proposal: Proposal
    criterion_means: list[Decimal | None]
    weighted_total: Decimal | None
    median: Decimal | None
    spread: Decimal | None
    disagreement: bool
    calibrated: float | None
    reviewer_totals: list[Decimal]
    reviews_done: int
    reviews_expected: int
    priority: PriorityMatch = field(default_factory=PriorityMatch)
    recommendation: PanelRecommendation | None = None
    # The criterion thresholds and the call's overall one that the means miss (reviews.domain.readiness).
    threshold_misses: list[ThresholdMiss] = field(default_factory=list)

    @property
    def incomplete(self) -> bool:
        return self.reviews_done < self.reviews_expected

    @property
    def rank(self) -> int | None:
        return self.recommendation.rank if self.recommendation else None

    @property
    def recommended(self) -> str:
        return self.recommendation.recommendation if self.recommendation else ""


def _z_scores(totals_by_reviewer: dict[int, list[tuple[int, Decimal]]]) -> dict[int, float]:
    """Each review's weighted total as a z-score against its reviewer's own reviews in the call, which
    evens out lenient and severe reviewers. Population standard deviation; a reviewer with fewer than
    two reviews, or who gave every proposal the same total, says nothing about their scale: z = 0."""
    z: dict[int, float] = {}
    for items in totals_by_reviewer.values():
        values = [float(total) for _, total in items]
        sd = statistics.pstdev(values) if len(values) >= 2 else 0.0
        mean = statistics.fmean(values)
        for review_id, total in items:
            z[review_id] = (float(total) - mean) / sd if sd > 0 else 0.0
    return z


def _norm(text: str) -> str:
    text = unicodedata.normalize("NFKD", text or "").encode("ascii", "ignore").decode().casefold()
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text).split())


def priority_match(proposal: Proposal, priority: InstitutePriority | None) -> PriorityMatch:
    """The partner's country among the priority countries, and the proposal's keywords (whole words,
    case and accents ignored) found in the priority themes, French or English."""
    if priority is None:
        return PriorityMatch()
    countries = {str(country.code) for country in priority.priority_countries}
    country = str(proposal.partner_country.code or "") if proposal.partner_country else ""
    themes = f" {_norm(priority.themes_fr)} {_norm(priority.themes_en)} "
    keywords = tuple(
        keyword.strip() for keyword in re.split(r"[,;]", proposal.keywords or "")
        if _norm(keyword) and f" {_norm(keyword)} " in themes
    )
    return PriorityMatch(country=country if country in countries else "", keywords=keywords)


def _submitted_reviews(panel: Panel):
    """Every submitted, non-conflicted review of the call by the institute's reviewers, with its scores:
    one query. Calibration needs them all, including those on proposals the officer may not see."""
    rows = (
        Score.objects.filter(
            review__state=ReviewState.SUBMITTED, review__proposal__call_id=panel.call_id,
            review__reviewer__institute_id=panel.institute_id, score__isnull=False,
        )
        .exclude(Exists(Conflict.objects.filter(proposal_id=OuterRef("review__proposal_id"),
                                                reviewer_id=OuterRef("review__reviewer_id"))))
        .values_list("review_id", "review__proposal_id", "review__reviewer_id", "criterion_id", "score")
        .order_by()  # any order will do: without it, a join to the criteria and a sort of every score
    )
    reviews: dict[int, tuple[int, int, dict[int, Decimal]]] = {}
    for review_id, proposal_id, reviewer_id, criterion_id, score in rows:
        reviews.setdefault(review_id, (proposal_id, reviewer_id, {}))[2][criterion_id] = score
    return reviews


TABLE_FIELDS = (
    "call_id", "pi_id", "reference", "state", "title", "acronym", "keywords", "partner_country", "unit_id",
    "evaluating_institute_id", "pi__full_name", "pi__email", "panel_recommendation__panel_id",
    "panel_recommendation__rank", "panel_recommendation__recommendation", "panel_recommendation__proposed_amount",
)


def panel_table(*, panel: Panel, user) -> list[Row]:
    """One row per proposal of the panel the user may see: criterion means, weighted total, median and
    spread of the reviewers' weighted totals (with the disagreement flag), the calibrated score, the
    reviews done against those expected, the match with the institute's priorities, and the panel's
    recommendation. Only submitted reviews count. Four queries, whatever the number of proposals."""
    criteria = list(panel.call.criteria.order_by("position"))
    weights = {criterion.pk: criterion.weight for criterion in criteria}
    proposals = list(
        panel_proposals(panel, user).filter(state__in=PANEL_STATES)
        .select_related("pi", "panel_recommendation").order_by("reference")
        # What a row shows (and the export writes), nothing more: over a thousand rows, the long texts and
        # the timestamps were most of what the query returned and Python decoded (docs/benchmarks.md).
        .only(*TABLE_FIELDS)
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
        rows.append(Row(
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


NO_RECOMMENDATION = "none"


def rows_filter(rows: list[Row], *, disagreement=False, incomplete=False, priority=False,
                recommendation: str = "", under_threshold=False) -> list[Row]:
    """The officer's filters on the panel table (and its export): each one narrows the rows."""
    return [
        row for row in rows
        if (not disagreement or row.disagreement)
        and (not incomplete or row.incomplete)
        and (not priority or row.priority.matched)
        and (not under_threshold or row.threshold_misses)
        and (not recommendation or row.recommended == ("" if recommendation == NO_RECOMMENDATION else recommendation))
    ]


_RECOMMENDATION_ORDER = {Recommendation.FUND: 0, Recommendation.RESERVE: 1, Recommendation.REJECT: 2}


def sort_keys(criteria) -> dict:
    """The sortable columns: key in the ``sort`` parameter → value of a row."""
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


DEFAULT_SORT = "-total"


def rows_sort(rows: list[Row], sort: str, criteria) -> tuple[list[Row], str]:
    """Rows in the order asked for (``-key`` for descending); empty values last either way, the
    reference breaks ties. An unknown key falls back to the default order, which is returned."""
    keys = sort_keys(criteria)
    name = (sort or "").removeprefix("-")
    if name not in keys:
        sort, name = DEFAULT_SORT, DEFAULT_SORT.removeprefix("-")
    value = keys[name]
    by_reference = sorted(rows, key=lambda row: row.proposal.reference)
    filled = [row for row in by_reference if value(row) is not None]
    empty = [row for row in by_reference if value(row) is None]
    return sorted(filled, key=value, reverse=sort.startswith("-")) + empty, sort


# ---------------------------------------------------------------------------------------------------
# Consensus, recommendation and ranking
# ---------------------------------------------------------------------------------------------------

def _amount(value) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        return Decimal(str(value)).quantize(Decimal("0.01"))
    except InvalidOperation:
        raise ValidationError(_("Give the amount as a number of euros."), code="amount") from None


def recommendation_set(
    *, proposal_id: int, user, consensus: str, recommendation: str, proposed_amount, now: dt.datetime
) -> PanelRecommendation:
    """The officer's consensus summary, recommendation (fund / reserve / reject) and proposed amount.

    Only an officer of the proposal's panel who is not in conflict with it, or directorate staff.
    Funding needs an amount within the call's bounds (seed: €10,000–14,000); a rejected proposal gets
    none. Setting a recommendation moves the proposal from in review to ranked; clearing it moves it back.
    The consensus becomes the evaluation summary sent to the PI.
    """
    recommendation = recommendation or ""
    if recommendation and recommendation not in Recommendation.values:
        raise ValidationError(_("Choose fund, reserve or reject."), code="recommendation")
    amount = _amount(proposed_amount) if recommendation != Recommendation.REJECT else None
    with transaction.atomic():
        proposal = (
            Proposal.objects.select_for_update(of=("self",))
            .select_related("call", "unit__main_institute", "evaluating_institute").get(pk=proposal_id)
        )
        if not can_recommend(user, proposal):
            raise _forbidden()
        panel = panel_of(proposal)
        if panel is None:
            raise _forbidden()
        if proposal.state not in RECOMMENDABLE_STATES:
            raise ValidationError(
                _("A recommendation can be made only while the proposal is in review; it is %(state)s.")
                % {"state": proposal.get_state_display().lower()}, code="state",
            )
        call = proposal.call
        if recommendation == Recommendation.FUND and amount is None:
            raise ValidationError(_("Give the amount you propose to fund."), code="amount_required")
        if recommendation == Recommendation.FUND:
            misses = proposal_threshold_misses(proposal)
            if misses:
                raise ValidationError(
                    _("%(ref)s cannot be recommended for funding: %(misses)s. Recommend the reserve list or "
                      "rejection; the directorate may still select it, with a reason.")
                    % {"ref": proposal.reference, "misses": "; ".join(str(miss) for miss in misses)},
                    code="threshold",
                )
        if amount is not None and not call.budget_min <= amount <= call.budget_max:
            raise ValidationError(
                _("The amount must be between %(min)s and %(max)s.")
                % {"min": formats.money(call.budget_min), "max": formats.money(call.budget_max)},
                code="amount_bounds",
            )
        record, _created = PanelRecommendation.objects.get_or_create(
            proposal=proposal, defaults={"panel": panel, "updated_at": now, "updated_by": user}
        )
        before = {"recommendation": record.recommendation, "amount": str(record.proposed_amount or "")}
        record.panel = panel
        record.consensus = (consensus or "").strip()
        record.recommendation = recommendation
        record.proposed_amount = amount
        record.updated_at = now
        record.updated_by = user
        record.save(update_fields=["panel", "consensus", "recommendation", "proposed_amount", "updated_at", "updated_by"])
        from_state = proposal.state
        if recommendation and proposal.state == ProposalState.IN_REVIEW:
            proposal.state = ProposalState.RANKED
        elif not recommendation and proposal.state == ProposalState.RANKED:
            proposal.state = ProposalState.IN_REVIEW
        if proposal.state != from_state:
            proposal.save(update_fields=["state"])
        audit_record(
            actor=user, target=proposal, action="panel.recommend", now=now,
            from_state=from_state if proposal.state != from_state else "",
            to_state=proposal.state if proposal.state != from_state else "",
            data={"before": before, "recommendation": recommendation, "amount": str(amount or "")},
        )
    return record


def ranking_of_page(*, panel: Panel, user, typed: list[tuple[int, int]], page_ids: set[int]) -> list[int]:
    """The panel's whole order when the officer numbered the proposals of one page of the table.

    ``typed`` is (number, proposal id) for the boxes filled on the page, ``page_ids`` every proposal the
    page showed (an emptied box unranks its proposal). The ranked proposals of the other pages keep their
    rank as their number; a number typed on the page goes before an equal rank kept from another page.
    With the whole table on one page this is the order of the numbers typed, as before.
    """
    kept = (
        PanelRecommendation.objects.filter(panel=panel, rank__isnull=False)
        .filter(proposal__in=panel_proposals(panel, user).filter(state__in=PANEL_STATES))
        .exclude(proposal_id__in=page_ids).values_list("rank", "proposal_id")
    )
    entries = [(number, 0, pk) for number, pk in typed] + [(rank, 1, pk) for rank, pk in kept]
    return [pk for _number, _typed_first, pk in sorted(entries)]


def ranks_set(*, panel_id: int, user, ordered_proposal_ids, now: dt.datetime) -> dict[int, int]:
    """Rank the panel's proposals 1..n in the order given; those left out lose their rank.

    Ranks are unique in a panel (database constraint): they are cleared, then set, in one transaction
    under a lock on the panel, so two officers saving at once cannot interleave. Proposals the officer
    may not see (own conflicts) keep their rank; the others fill the remaining places.
    Returns {proposal id: rank}.
    """
    ordered = [int(pk) for pk in ordered_proposal_ids]
    if len(set(ordered)) != len(ordered):
        raise ValidationError(_("A proposal appears twice in the ranking."), code="duplicate")
    with transaction.atomic():
        panel = Panel.objects.select_for_update().get(pk=panel_id)
        if not can_manage_panel(user, panel):
            raise _forbidden()
        visible = set(panel_proposals(panel, user).filter(state__in=PANEL_STATES).values_list("pk", flat=True))
        if set(ordered) - visible:
            raise ValidationError(_("Only proposals of this panel can be ranked."), code="wrong_panel")
        scope = Q(panel=panel) | Q(proposal_id__in=ordered)
        records = {r.proposal_id: r for r in PanelRecommendation.objects.filter(scope)}
        hidden = set(Conflict.objects.filter(reviewer__user=user, proposal_id__in=list(records))
                     .values_list("proposal_id", flat=True)) if user.is_authenticated else set()
        kept = {r.rank for pid, r in records.items() if pid in hidden and r.rank is not None}
        PanelRecommendation.objects.filter(scope).exclude(proposal_id__in=hidden).exclude(rank=None).update(rank=None)
        places = (place for place in range(1, len(ordered) + len(kept) + 1) if place not in kept)
        ranks = dict(zip(ordered, places, strict=False))
        changed, created = [], []
        for proposal_id, rank in ranks.items():
            record = records.get(proposal_id)
            if record is None:
                created.append(PanelRecommendation(proposal_id=proposal_id, panel=panel, rank=rank, updated_at=now,
                                                   updated_by=user))
                continue
            record.panel, record.rank, record.updated_at, record.updated_by = panel, rank, now, user
            changed.append(record)
        PanelRecommendation.objects.bulk_update(changed, ["panel", "rank", "updated_at", "updated_by"], batch_size=500)
        PanelRecommendation.objects.bulk_create(created, batch_size=500)
        audit_record(actor=user, target=panel, action="panel.rank", now=now,
                     data={"ranks": {str(pid): rank for pid, rank in ranks.items()}})
    return ranks

