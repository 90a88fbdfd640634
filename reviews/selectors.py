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

from proposals.models import Proposal, evaluating_institute

from .domain.assignment import REVIEWABLE_STATES
from .domain.evaluation import counted_reviews
from .domain.panel import RECOMMENDABLE_STATES
from .models import Assignment, Panel, ReviewState
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
