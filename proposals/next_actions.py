"""The PI's next actions on their proposals (``iea.next_actions``): finish and submit a draft before the
deadline, get the partner's support letter, submit again a proposal changed since its submission."""

import datetime as dt

from django.db.models import Exists, OuterRef
from django.urls import reverse
from django.utils.translation import gettext as _

from calls.domain import call_deadline
from calls.models import CallState
from iea.next_actions import PI, Action, Deadline, landing, provides, provides_deadlines, urgency_of

from .domain import proposal_editable
from .models import EDITABLE_STATES, PartnerInvitation, Proposal, ProposalState, SupportLetter

landing(PI, "dashboard")


def proposal_name(proposal: Proposal) -> str:
    return proposal.acronym or proposal.title or _("your untitled draft")


@provides(PI)
def proposal_actions(user, now: dt.datetime):
    """One query: the PI's drafts and submitted proposals in calls still open."""
    proposals = (
        Proposal.objects.filter(pi=user, state__in=EDITABLE_STATES, call__state=CallState.OPEN)
        .select_related("call")
        .annotate(
            has_letter=Exists(SupportLetter.objects.filter(proposal=OuterRef("pk"))),
            partner_invited=Exists(PartnerInvitation.objects.filter(
                proposal=OuterRef("pk"), revoked_at__isnull=True, expires_at__gt=now)),
        )
        .defer("abstract", "activities", "ethics_statement")
        .order_by("pk")
    )
    for proposal in proposals:
        if not proposal_editable(proposal, now=now):
            continue
        deadline = call_deadline(proposal.call)
        urgency = urgency_of(deadline, now=now)
        edit = reverse("proposals:edit", kwargs={"pk": proposal.pk})
        name = proposal_name(proposal)
        if proposal.state == ProposalState.DRAFT:
            yield Action(kind="submit_draft", role=PI, due=deadline, urgency=urgency, url=edit,
                         text=_("Finish “%(name)s” and submit it before the deadline.") % {"name": name})
            if not proposal.has_letter and not proposal.partner_invited:
                yield Action(kind="invite_partner", role=PI, due=deadline, urgency=urgency, url=edit,
                             text=_("Invite the partner of “%(name)s” to upload the support letter, or upload it "
                                    "yourself.") % {"name": name})
            elif not proposal.has_letter:
                yield Action(kind="letter_missing", role=PI, due=deadline, urgency=urgency, url=edit,
                             text=_("The support letter of “%(name)s” is still missing: the partner was invited "
                                    "but has not uploaded it.") % {"name": name})
        elif proposal.has_unsubmitted_changes:
            yield Action(kind="resubmit", role=PI, due=deadline, urgency=urgency, url=edit,
                         text=_("You changed “%(name)s” since submitting it: submit it again before the deadline "
                                "so the changes count.") % {"name": name})


@provides_deadlines
def proposal_deadlines(user, now: dt.datetime):
    """The calendar feed's closing time of each call in which the PI's proposal can still be edited and
    submitted. One query."""
    for proposal in Proposal.objects.filter(pi=user, state__in=EDITABLE_STATES).select_related("call"):
        if proposal_editable(proposal, now=now):
            yield Deadline(
                uid=f"proposal-{proposal.pk}-deadline",
                title=_("Deadline of %(call)s for %(proposal)s") % {
                    "call": proposal.call.title, "proposal": proposal.acronym or proposal.reference},
                at=call_deadline(proposal.call), url=reverse("proposals:detail", args=[proposal.pk]),
            )
