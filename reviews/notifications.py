"""The reviews' messages (domain.md, notifications): the reviewer's invitation and a reopened review,
ineligibility after screening, a conflict declared, the outcome of the reviewed proposals (a digest per
reviewer, when the call says so). The kinds are declared here; the domain queues them
through ``domain.mail``. Reminders of reviews due are in ``reminders``. The decisions' mails are funding's
(``funding.notifications``).
"""

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from calls.models import Call
from iea.notifications.kinds import Kind, register
from proposals.models import Message, MessageSide, Proposal, ProposalState

from .domain.outcome import OUTCOME_KIND, outcomes_of_digest
from .domain.scoring import review_material
from .models import Assignment, AssignmentState, Panel, Review, ReviewState


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


register(Kind(
    name="bidding_invitation", label=_("Invitation to bid on a panel's proposals"), template="bidding_invitation",
    model=Panel, select_related=("call", "institute"),
    context=lambda panel, n: {"panel": panel, "url": reverse("reviewer:bids", kwargs={"panel_id": panel.pk})},
    skip=lambda panel, n, now: "" if panel.bidding_open else _("Bidding was closed."),
))


def _outcome_rows(call, notification):
    return outcomes_of_digest(user=notification.recipient, call_id=call.pk,
                              proposal_ids=notification.params.get("proposals", []))


def _outcome_skip(call, notification, now):
    if not call.outcome_to_reviewers:
        return _("The call no longer tells reviewers the outcome.")
    if not _outcome_rows(call, notification):
        return _("None of these proposals may be told to this reviewer any more.")
    return ""


register(Kind(
    name=OUTCOME_KIND, label=_("Outcome of the reviewed proposals, to a reviewer"), template="review_outcome",
    model=Call, context=lambda call, n: {"call": call, "outcomes": _outcome_rows(call, n),
                                         "url": reverse("reviewer:assignments")},
    skip=_outcome_skip,
))


def _message_context(message, notification):
    thread = message.thread
    return {"message": message, "thread": thread, "proposal": thread.proposal,
            "from_applicants": message.side == MessageSide.APPLICANTS,
            "url": reverse("conversation:thread", kwargs={"pk": thread.proposal_id, "topic": thread.topic})}


register(Kind(
    name="message_new", label=_("New message in a conversation"), template="message_new", model=Message,
    select_related=("thread__proposal__call", "author"), context=_message_context,
))


# The reminders of reviews due, and the officers' notice of a late review (schedules read by the dispatcher).
from . import reminders  # noqa: E402,F401
