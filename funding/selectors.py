"""Reads of funding's staff pages. The decisions page for a call of any size: the budget and the
institutes' totals from aggregates over the whole call, the rows one page at a time.

A call of 5,000 proposals made a 6 MB page that took seconds to render (docs/benchmarks.md). The rows are
ordered as ``decisions_overview`` orders them — by evaluating institute, then the panel's rank (unranked
last), then the reference — so a page holds the end of one institute and the start of the next; each
institute links to the page where it starts. A constant number of queries, whatever the size of the call.
"""

from dataclasses import dataclass, field
from decimal import Decimal

from django.core.paginator import Page, Paginator
from django.db.models import Count, Exists, F, OuterRef, Q, Sum
from django.db.models.functions import Coalesce

from calls.models import Call, Institute
from proposals.models import Proposal, ProposalState, evaluating_institute
from reviews.domain.evaluation import with_scores
from reviews.domain.readiness import Readiness, criterion_means, reviews_needed, threshold_misses
from reviews.models import DecisionOutcome, Panel

from .domain.acceptance import counts_against_envelope
from .domain.awards import GATING_REPORT
from .domain.decisions import DECIDABLE_STATES, DecisionRow, InstituteGroup, decision_row
from .models import AwardState, Report, ReportState, Tranche, TrancheState

DECISIONS_PER_PAGE = 100

_INSTITUTE = evaluating_institute()
_INSTITUTE_CODE = evaluating_institute("code")


@dataclass
class InstituteTotal:
    """One institute of the call: its proposals on the page, its selected total, where it starts."""

    institute: Institute | None
    count: int
    selected_total: Decimal
    page_number: int


@dataclass
class PageGroup(InstituteGroup):
    """The rows of an institute on this page; the total is the institute's over the whole call."""

    total: Decimal = Decimal(0)

    @property
    def selected_total(self) -> Decimal:
        return self.total


@dataclass
class DecisionsPage:
    call: Call
    page: Page
    groups: list[PageGroup]
    institutes: list[InstituteTotal]
    selected_total: Decimal
    selected_count: int
    undecided_count: int
    unnotified_count: int
    rows: list[DecisionRow] = field(default_factory=list)

    @property
    def envelope(self) -> Decimal | None:
        return self.call.total_envelope

    @property
    def remaining(self) -> Decimal | None:
        return None if self.envelope is None else self.envelope - self.selected_total


def decisions_proposals(call: Call):
    """The proposals of the decisions page: in review, decided or funded, or recommended by their panel."""
    return Proposal.objects.filter(call=call).filter(
        Q(state__in=[*DECIDABLE_STATES, ProposalState.FUNDED]) | Q(panel_recommendation__isnull=False)
    )


def decisions_page(*, call: Call, page_number=1, per_page: int = DECISIONS_PER_PAGE) -> DecisionsPage:
    """One page of the decisions of a call, with the call's budget and each institute's selected total.
    Five queries: the totals, the totals by institute, the institutes, the count and the page's rows."""
    proposals = decisions_proposals(call)
    # A cancelled award's amount went back to the envelope (funding.domain.acceptance).
    selected = Q(decision__outcome=DecisionOutcome.SELECTED) & counts_against_envelope()
    totals = proposals.aggregate(
        selected_total=Coalesce(Sum("decision__amount", filter=selected), Decimal(0)),
        selected_count=Count("decision", filter=selected),
        undecided_count=Count("pk", filter=Q(decision__isnull=True)),
        unnotified_count=Count("decision", filter=Q(decision__notified_at__isnull=True)),
    )
    by_institute = list(
        proposals.annotate(institute_code=_INSTITUTE_CODE).values("institute_code")
        .annotate(institute=_INSTITUTE, n=Count("pk"),
                  selected=Coalesce(Sum("decision__amount", filter=selected), Decimal(0)))
        .order_by(F("institute_code").asc(nulls_last=True))
    )
    institutes = Institute.objects.in_bulk([row["institute"] for row in by_institute if row["institute"]])
    ordered = (
        proposals.annotate(institute_code=_INSTITUTE_CODE)
        .order_by(F("institute_code").asc(nulls_last=True), F("panel_recommendation__rank").asc(nulls_last=True),
                  "reference")
    )
    page = Paginator(with_scores(ordered), per_page).get_page(page_number)
    rows = [decision_row(proposal) for proposal in page.object_list]
    _add_readiness(call, rows)

    groups: dict[int | None, PageGroup] = {}
    summary: list[InstituteTotal] = []
    seen = 0
    for row in by_institute:
        institute = institutes.get(row["institute"])
        summary.append(InstituteTotal(institute=institute, count=row["n"], selected_total=row["selected"],
                                      page_number=seen // per_page + 1))
        seen += row["n"]
    totals_by_institute = {row["institute"]: row["selected"] for row in by_institute}
    for row in rows:
        institute = row.proposal.institute
        key = institute.pk if institute else None
        group = groups.get(key)
        if group is None:
            group = groups[key] = PageGroup(institute=institute, total=totals_by_institute.get(key, Decimal(0)))
        group.rows.append(row)
    return DecisionsPage(call=call, page=page, groups=list(groups.values()), institutes=summary, rows=rows, **totals)


def decisions_rows(*, call: Call, proposal_ids) -> list[DecisionRow]:
    """The rows of the chosen proposals of the call, by reference, with what each decision lacks (the batch
    decision's confirmation). Six queries, whatever the number of proposals."""
    proposals = with_scores(decisions_proposals(call).filter(pk__in=proposal_ids)).order_by("reference")
    rows = [decision_row(proposal) for proposal in proposals]
    _add_readiness(call, rows)
    return rows


def _add_readiness(call: Call, rows: list[DecisionRow]) -> None:
    """What each row's decision lacks: the reviews its panel needs, the recommendation, the thresholds its
    criterion means miss. Three queries (the panels, the criteria, the means of the page's proposals)."""
    panels = {panel.institute_id: panel for panel in Panel.objects.filter(call=call)}
    criteria = list(call.criteria.order_by("position"))
    means = criterion_means([row.proposal.pk for row in rows])
    for row in rows:
        institute = row.proposal.institute
        row.readiness = Readiness(
            reviews_done=row.review_count,
            reviews_needed=reviews_needed(call=call, panel=panels.get(institute.pk) if institute else None),
            recommended=bool(row.recommendation and row.recommendation.recommendation),
            misses=tuple(threshold_misses(means=means.get(row.proposal.pk, {}), criteria=criteria, call=call)),
        )


def tranches_due():
    """The planned tranches of active awards that may be released: every earlier tranche released and the
    gating report approved (``funding.domain.awards.tranche_gate`` as a queryset filter)."""
    earlier_pending = Tranche.objects.filter(award_id=OuterRef("award_id"), number__lt=OuterRef("number")).exclude(
        state=TrancheState.RELEASED)
    gate = Q(~Q(number__in=list(GATING_REPORT)))
    for number, period in GATING_REPORT.items():
        gate |= Q(number=number) & Exists(Report.objects.filter(award_id=OuterRef("award_id"), period=period,
                                                                state=ReportState.APPROVED))
    return Tranche.objects.filter(state=TrancheState.PLANNED, award__state=AwardState.ACTIVE).exclude(
        Exists(earlier_pending)).filter(gate)
