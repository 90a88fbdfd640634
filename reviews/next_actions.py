"""The review's next actions (``iea.next_actions``): the reviewer's invitations and reviews, the officer's
panels (proposals short of reviewers, reviews overdue, recommendations to make), and the directorate's
screening and decisions. Each provider reads in a constant number of queries."""

import datetime as dt

from django.db.models import Count, Exists, OuterRef
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from calls.domain import call_deadline
from calls.models import Call
from iea.next_actions import (
    OFFICER,
    REVIEWER,
    STAFF,
    Action,
    Deadline,
    Urgency,
    landing,
    provides,
    provides_deadlines,
    urgency_of,
)
from proposals.models import Proposal, ProposalState

from .domain.panel import RECOMMENDABLE_STATES
from .models import Assignment, AssignmentState, Decision, Panel, ReviewState
from .rules import assignments_for
from .selectors import panel_health

landing(REVIEWER, "reviewer:assignments")
landing(OFFICER, "panel:list")


def _name(proposal: Proposal) -> str:
    return proposal.acronym or proposal.title or proposal.reference


@provides(REVIEWER)
def reviewer_actions(user, now: dt.datetime):
    """Invitations to answer and reviews to submit, each by its due date. One query."""
    rows = (
        assignments_for(user).select_related("proposal").annotate(
            review_submitted=Exists(Assignment.objects.filter(pk=OuterRef("pk"), review__state=ReviewState.SUBMITTED)))
        .defer("proposal__abstract", "proposal__activities", "proposal__ethics_statement", "decline_reason")
        .order_by("due_at", "pk")
    )
    for assignment in rows:
        name = _name(assignment.proposal)
        urgency = urgency_of(assignment.due_at, now=now)
        if assignment.state == AssignmentState.INVITED:
            yield Action(kind="review_invitation", role=REVIEWER, due=assignment.due_at, urgency=urgency,
                         url=reverse("reviewer:invitation", kwargs={"pk": assignment.pk}),
                         text=_("Accept or decline the invitation to review “%(name)s”.") % {"name": name})
        elif not assignment.review_submitted:
            text = (_("Your review of “%(name)s” is overdue: submit it.") if urgency == Urgency.OVERDUE
                    else _("Submit your review of “%(name)s”.")) % {"name": name}
            yield Action(kind="review_overdue" if urgency == Urgency.OVERDUE else "review_due", role=REVIEWER,
                         due=assignment.due_at, urgency=urgency, text=text,
                         url=reverse("reviewer:review", kwargs={"pk": assignment.pk}))


@provides(OFFICER)
def officer_actions(user, now: dt.datetime):
    """For each panel the user runs: proposals short of reviewers, reviews overdue, recommendations to make
    (proposals with their reviews complete and no recommendation). Four queries, whatever the number of
    panels and proposals (``reviews.selectors.panel_health``)."""
    for health in panel_health(Panel.objects.filter(officers=user), now=now, user=user):
        panel = health.panel
        label = f"{panel.call.title} · {panel.institute.code}"
        if health.overdue:
            yield Action(kind="panel_reviews_overdue", role=OFFICER, urgency=Urgency.OVERDUE,
                         due=panel.review_due_at,
                         url=reverse("panel:assignments", kwargs={"panel_id": panel.pk}),
                         text=ngettext("%(panel)s: %(count)s review is overdue.",
                                       "%(panel)s: %(count)s reviews are overdue.", health.overdue)
                         % {"panel": label, "count": health.overdue})
        if health.short:
            yield Action(kind="panel_short_of_reviewers", role=OFFICER,
                         due=panel.review_due_at, urgency=urgency_of(panel.review_due_at, now=now),
                         url=reverse("panel:assignments", kwargs={"panel_id": panel.pk}),
                         text=ngettext("%(panel)s: %(count)s proposal is short of reviewers.",
                                       "%(panel)s: %(count)s proposals are short of reviewers.", health.short)
                         % {"panel": label, "count": health.short})
        if health.to_recommend:
            yield Action(kind="panel_recommendations", role=OFFICER,
                         url=reverse("panel:table", kwargs={"panel_id": panel.pk}),
                         text=ngettext("%(panel)s: %(count)s reviewed proposal waits for your recommendation.",
                                       "%(panel)s: %(count)s reviewed proposals wait for your recommendation.",
                                       health.to_recommend) % {"panel": label, "count": health.to_recommend})


@provides(STAFF)
def staff_review_actions(user, now: dt.datetime):
    """Per call: the submitted proposals to screen once the deadline has passed, and the proposals the
    panel recommended that wait for the directorate's decision. Two queries."""
    to_screen = dict(
        Proposal.objects.filter(state=ProposalState.SUBMITTED).order_by()
        .values("call_id").annotate(n=Count("pk")).values_list("call_id", "n")
    )
    to_decide = dict(
        Proposal.objects.filter(state__in=RECOMMENDABLE_STATES, panel_recommendation__isnull=False)
        .exclude(panel_recommendation__recommendation="")
        .exclude(Exists(Decision.objects.filter(proposal_id=OuterRef("pk"))))
        .order_by().values("call_id").annotate(n=Count("pk")).values_list("call_id", "n")
    )
    calls = Call.objects.in_bulk({*to_screen, *to_decide}) if to_screen or to_decide else {}
    for call in sorted(calls.values(), key=lambda call: call.year):
        count = to_screen.get(call.pk)
        # Before the deadline the PIs may still change their proposals (reviews.domain.screening).
        if count and call_deadline(call) <= now:
            yield Action(kind="proposals_to_screen", role=STAFF,
                         url=reverse("admin:reviews_screening", args=[call.pk]),
                         text=ngettext("%(call)s: %(count)s proposal to screen.",
                                       "%(call)s: %(count)s proposals to screen.", count)
                         % {"call": call.title, "count": count})
        count = to_decide.get(call.pk)
        if count:
            yield Action(kind="decisions_to_take", role=STAFF,
                         url=reverse("admin:reviews_decisions", args=[call.pk]),
                         text=ngettext("%(call)s: %(count)s recommended proposal waits for a decision.",
                                       "%(call)s: %(count)s recommended proposals wait for a decision.", count)
                         % {"call": call.title, "count": count})


@provides_deadlines
def review_deadlines(user, now: dt.datetime):
    """The calendar feed's due dates of the person's reviews still to submit (invited or accepted), then of the
    reviews of the panels they are an officer of. Two queries."""
    assignments = (
        Assignment.objects.filter(reviewer__user=user, state__in=[AssignmentState.INVITED, AssignmentState.ACCEPTED])
        .exclude(review__state=ReviewState.SUBMITTED).select_related("proposal")
    )
    for assignment in assignments:
        yield Deadline(
            uid=f"assignment-{assignment.pk}-due",
            title=_("Review of %(proposal)s due") % {"proposal": assignment.proposal.reference},
            at=assignment.due_at, url=reverse("reviewer:assignments"),
        )
    for panel in Panel.objects.filter(officers=user, review_due_at__isnull=False).select_related("call", "institute"):
        yield Deadline(
            uid=f"panel-{panel.pk}-reviews-due",
            title=_("Reviews due for the %(institute)s panel of %(call)s") % {
                "institute": panel.institute.code, "call": panel.call.title},
            at=panel.review_due_at, url=reverse("panel:table", args=[panel.pk]),
        )
