"""The reviews' messages (domain.md, notifications): the reviewer's invitation and a reopened review,
ineligibility after screening, and the decisions to the PI, the partner and the unit's managers.
The kinds are declared here; the domain queues them through ``domain.mail``. Reminders of reviews due
are in ``reminders``.
"""

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from iea.notifications.kinds import Kind, register
from proposals.models import Proposal, ProposalState

from .domain import evaluation
from .domain.scoring import review_material
from .models import Assignment, AssignmentState, Decision, Review, ReviewState


def _invitation_context(assignment, notification):
    return {"assignment": assignment, "proposal": assignment.proposal, "reviewer": assignment.reviewer.user,
            "material": review_material(assignment.proposal),
            "url": reverse("reviewer:invitation", kwargs={"pk": assignment.pk})}


def _invitation_skip(assignment, notification, now):
    if assignment.state != AssignmentState.INVITED:
        return _("The invitation was answered or withdrawn.")
    return ""


register(Kind(
    name="review_invitation", label=_("Invitation to review"), template="review_invitation", model=Assignment,
    select_related=("reviewer__user", "proposal__pi", "proposal__call", "panel__institute"),
    context=_invitation_context, skip=_invitation_skip,
))
register(Kind(
    name="review_reopened", label=_("Review reopened"), template="review_reopened", model=Review,
    select_related=("reviewer__user", "proposal", "assignment"),
    context=lambda review, n: {"review": review, "proposal": review.proposal, "reason": n.params.get("reason", ""),
                               "url": reverse("reviewer:review", kwargs={"pk": review.assignment_id})},
))
register(Kind(
    name="screening_ineligible", label=_("Proposal found ineligible"), template="screening_ineligible",
    model=Proposal, select_related=("pi", "call"),
    context=lambda proposal, n: {"proposal": proposal, "reason": n.params.get("reason", ""),
                                 "url": reverse("proposals:detail", kwargs={"pk": proposal.pk})},
    skip=lambda proposal, n, now: "" if proposal.state == ProposalState.INELIGIBLE else _(
        "The proposal is no longer ineligible."),
))


def _conflict_context(assignment, notification):
    material = review_material(assignment.proposal)
    review = Review.objects.filter(assignment=assignment).only("state").first()
    return {"assignment": assignment, "proposal": assignment.proposal, "panel": assignment.panel,
            "reviewer": assignment.reviewer.user, "reason": notification.params.get("reason", ""),
            "accepted": notification.params.get("was") == AssignmentState.ACCEPTED,
            "title": material.content.get("title", "") if material else assignment.proposal.title,
            "submitted": review is not None and review.state == ReviewState.SUBMITTED,
            "url": reverse("panel:table", kwargs={"panel_id": assignment.panel_id})}


register(Kind(
    name="review_conflict_declared", label=_("Conflict declared by a reviewer, to the panel's officers"),
    template="review_conflict_declared", model=Assignment,
    select_related=("reviewer__user", "proposal__call", "panel__institute"), context=_conflict_context,
))


def _summary(decision, notification):
    # Called through the module, so a test can wrap ``evaluation.evaluation_summary_pdf`` to see each language.
    proposal = decision.proposal
    pdf = evaluation.evaluation_summary_pdf(proposal=proposal, language=notification.language)
    return [(evaluation.evaluation_summary_filename(proposal), pdf, "application/pdf")]


_DECISION = {"model": Decision, "select_related": ("proposal__pi", "proposal__call", "proposal__unit"),
             "attachments": _summary}
register(Kind(
    name="decision", label=_("Decision, to the PI"), template="decision",
    context=lambda d, n: {"proposal": d.proposal, "decision": d,
                          "url": reverse("proposals:detail", kwargs={"pk": d.proposal_id})},
    **_DECISION,
))
register(Kind(
    name="decision_partner", label=_("Decision, to the partner"), template="decision_partner",
    context=lambda d, n: {"proposal": d.proposal, "decision": d}, **_DECISION,
))
register(Kind(
    name="decision_unit", label=_("Decision, to the unit"), template="decision_unit",
    context=lambda d, n: {"proposal": d.proposal, "decision": d}, **_DECISION,
))


def _promoted_context(decision, notification):
    award = getattr(decision.proposal, "award", None)
    return {"proposal": decision.proposal, "decision": decision, "award": award,
            "url": reverse("funding:award", kwargs={"pk": award.pk}) if award else ""}


register(Kind(
    name="reserve_promoted", label=_("Reserve promoted to selected, to the PI"), template="reserve_promoted",
    model=Decision, select_related=("proposal__pi", "proposal__call", "proposal__award__unit"),
    context=_promoted_context,
))


# The reminders of reviews due, and the officers' notice of a late review (schedules read by the dispatcher).
from . import reminders  # noqa: E402,F401
