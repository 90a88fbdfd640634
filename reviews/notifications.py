"""The reviews' messages (domain.md, notifications): the reviewer's invitation and a reopened review,
ineligibility after screening, a conflict declared. The kinds are declared here; the domain queues them
through ``domain.mail``. Reminders of reviews due are in ``reminders``. The decisions' mails are funding's
(``funding.notifications``).
"""

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from iea.notifications.kinds import Kind, register
from proposals.models import Proposal, ProposalState

from .domain.scoring import review_material
from .models import Assignment, AssignmentState, Review, ReviewState


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


# The reminders of reviews due, and the officers' notice of a late review (schedules read by the dispatcher).
from . import reminders  # noqa: E402,F401
