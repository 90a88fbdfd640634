"""Reads of the review shared by the officers' next actions and the back office's dashboard.

``panel_health`` answers, for a set of panels, the three questions an officer and the directorate ask of a
panel: how many proposals are short of reviewers, how many reviews are overdue, and how many reviewed
proposals wait for the panel's recommendation. Four queries whatever the number of panels and proposals.
"""

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from iea import formats
from proposals.models import Proposal, evaluating_institute

from .domain.assignment import REVIEWABLE_STATES
from .domain.evaluation import counted_reviews
from .domain.panel import RECOMMENDABLE_STATES
from .models import Affinity, Assignment, AssignmentState, Bid, BidValue, Conflict, Panel, ReviewState
from .rules import OPEN_ASSIGNMENT_STATES, not_conflicted


@dataclass
class PanelHealth:
    panel: Panel
    short: int = 0  # proposals with fewer open assignments than the panel asks
    overdue: int = 0  # open assignments past their due date without a submitted review
    to_recommend: int = 0  # proposals with their reviews done and no recommendation


def overdue_assignments(now: dt.datetime) -> QuerySet:
    """Assignments still open past their due date whose review is not submitted (the assignments list's
    *overdue* filter and the dashboards count these)."""
    return (Assignment.objects.filter(state__in=OPEN_ASSIGNMENT_STATES, due_at__lte=now)
            .exclude(review__state=ReviewState.SUBMITTED))


def panel_health(panels: QuerySet, *, now: dt.datetime, user=None) -> list[PanelHealth]:
    """The health of each panel of ``panels``, newest call first then by institute. With ``user`` (an
    officer), the proposals they are in conflict with are left out, as on every officer page."""
    found = {(panel.call_id, panel.institute_id): PanelHealth(panel)
             for panel in panels.select_related("call", "institute")}
    if not found:
        return []
    scope = panels.values("pk")
    mine = Exists(Panel.objects.filter(pk__in=scope, call_id=OuterRef("call_id"),
                                       institute_id=OuterRef("panel_institute")))
    needed = Subquery(Panel.objects.filter(call_id=OuterRef("call_id"), institute_id=OuterRef("panel_institute"))
                      .values("reviews_per_proposal")[:1])
    proposals = Proposal.objects.annotate(panel_institute=evaluating_institute()).filter(mine)
    assignments = overdue_assignments(now).filter(panel__in=scope)
    if user is not None:
        proposals = not_conflicted(proposals, user)
        assignments = not_conflicted(assignments, user, "proposal_id")
    open_count = Coalesce(Subquery(
        Assignment.objects.filter(proposal_id=OuterRef("pk"), state__in=OPEN_ASSIGNMENT_STATES).order_by()
        .values("proposal_id").annotate(n=Count("pk")).values("n")[:1]), 0)
    done_count = Coalesce(Subquery(
        counted_reviews().filter(proposal_id=OuterRef("pk")).order_by()
        .values("proposal_id").annotate(n=Count("pk")).values("n")[:1]), 0)

    def grouped(queryset) -> dict[tuple[int, int], int]:
        return {(row["call_id"], row["panel_institute"]): row["n"]
                for row in queryset.order_by().values("call_id", "panel_institute").annotate(n=Count("pk"))}

    for key, count in grouped(proposals.filter(state__in=REVIEWABLE_STATES)
                              .annotate(open_count=open_count, needed=needed)
                              .filter(open_count__lt=F("needed"))).items():
        found[key].short = count
    for key, count in grouped(
        proposals.filter(state__in=RECOMMENDABLE_STATES).annotate(done=done_count, needed=needed)
        .filter(done__gte=F("needed"))
        .filter(Q(panel_recommendation__isnull=True) | Q(panel_recommendation__recommendation=""))
    ).items():
        found[key].to_recommend = count
    overdue: dict[tuple[int, int], int] = defaultdict(int)
    for row in assignments.order_by().values("panel__call_id", "panel__institute_id").annotate(n=Count("pk")):
        overdue[(row["panel__call_id"], row["panel__institute_id"])] += row["n"]
    for key, count in overdue.items():
        if key in found:
            found[key].overdue = count
    return sorted(found.values(), key=lambda health: (-health.panel.call.year, health.panel.institute.code))


def panel_affinities(panel_id: int) -> dict[tuple[int, int], tuple[int, list[str]]]:
    """The stored TF-IDF affinities of a panel (``reviews.domain.affinities.affinities_compute``):
    ``{(proposal_id, reviewer_id): (score 0–1000, matching words best first)}``. Only the pairs that match at all
    are stored (at most the best ``affinity.TOP_K`` reviewers per proposal); a pair absent from the dict scores 0.
    One query."""
    return {(proposal_id, reviewer_id): (score, list(terms or ()))
            for proposal_id, reviewer_id, score, terms in
            Affinity.objects.filter(panel_id=panel_id).order_by().values_list("proposal_id", "reviewer_id", "score",
                                                                               "terms")}


BEST_MATCHES = 10  # reviewers shown on a proposal's page


@dataclass(frozen=True)
class BestMatch:
    """A reviewer of the pool as the proposal's page lists them among its best matches."""

    reviewer: object  # Reviewer, with its user
    score: int  # 0–1000
    terms: list[str]
    conflicted: bool
    assignment_state: str  # "" when never asked
    bid: str  # "" when no bid

    @property
    def percent(self) -> int:
        return round(self.score / 10)

    @property
    def percent_text(self) -> str:
        return formats.percent(self.score / 1000, decimals=0)

    @property
    def assignment_label(self) -> str:
        return AssignmentState(self.assignment_state).label if self.assignment_state else ""

    @property
    def bid_label(self) -> str:
        return BidValue(self.bid).label if self.bid else ""

    @property
    def offered(self) -> bool:
        """The page offers to assign them: no conflict, never asked for this proposal."""
        return not self.conflicted and not self.assignment_state


def proposal_best_matches(*, panel: Panel, proposal_id: int, limit: int = BEST_MATCHES) -> list[BestMatch]:
    """The active reviewers of the pool whose stored affinity with the proposal is highest, best first, with
    what the officer needs to choose: a conflict (never offered), the latest assignment's state, their bid.
    One query, whatever the number of reviewers and assignments."""
    pair = {"proposal_id": proposal_id, "reviewer_id": OuterRef("reviewer_id")}
    rows = (Affinity.objects.filter(panel=panel, proposal_id=proposal_id, reviewer__active=True)
            .select_related("reviewer__user")
            .annotate(conflicted=Exists(Conflict.objects.filter(**pair)),
                      assignment_state=Subquery(Assignment.objects.filter(**pair).order_by("-created_at", "-pk")
                                                .values("state")[:1]),
                      bid=Subquery(Bid.objects.filter(**pair).values("value")[:1]))
            .order_by("-score", "reviewer_id")[:limit])
    return [BestMatch(reviewer=row.reviewer, score=row.score, terms=list(row.terms or ()), conflicted=row.conflicted,
                      assignment_state=row.assignment_state or "", bid=row.bid or "") for row in rows]
