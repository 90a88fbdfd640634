"""The PI's and the partner's messages about a proposal (domain.md, notifications): their kinds.

Events (recorded by the domain functions, in their transaction, through ``domain/mail.py``): receipts of
each submission, the withdrawal notice, the partner's invitation and the letter received. Reminders are in
``reminders``.
"""

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from iea.notifications.kinds import Kind, register

from .domain import invitation_token
from .models import PartnerInvitation, Proposal, ProposalVersion, SupportLetter
from .receipts import receipt_filename, render_receipt


def _detail(proposal) -> str:
    return reverse("proposals:detail", kwargs={"pk": proposal.pk})


def _receipt_pdf(version, notification):
    return [(receipt_filename(version), render_receipt(version), "application/pdf")]


register(Kind(
    name="receipt", label=_("Receipt of a submission"), template="receipt", model=ProposalVersion,
    select_related=("proposal__pi", "proposal__call", "letter"),
    context=lambda version, n: {"proposal": version.proposal, "version": version, "url": _detail(version.proposal)},
    attachments=_receipt_pdf,
))
register(Kind(
    name="receipt_partner", label=_("Receipt of a submission, to the partner"), template="receipt_partner",
    model=ProposalVersion, select_related=("proposal__pi", "proposal__call"),
    context=lambda version, n: {"proposal": version.proposal, "version": version},
))
register(Kind(
    name="withdrawn", label=_("Withdrawal notice"), template="withdrawn", model=Proposal,
    select_related=("pi", "call"), context=lambda proposal, n: {"proposal": proposal, "url": _detail(proposal)},
))


def _invitation_context(invitation, notification):
    return {"invitation": invitation, "proposal": invitation.proposal,
            "url": reverse("proposals:partner", kwargs={"token": invitation_token(invitation)})}


def _invitation_skip(invitation, notification, now):
    if invitation.revoked_at is not None:
        return _("The invitation was revoked.")
    if now >= invitation.expires_at:
        return _("The invitation has expired.")
    return ""


register(Kind(
    name="partner_invitation", label=_("Invitation of the partner"), template="partner_invitation",
    model=PartnerInvitation, select_related=("proposal__pi", "proposal__call"),
    context=_invitation_context, skip=_invitation_skip,
))
register(Kind(
    name="letter_received", label=_("Support letter received from the partner"), template="letter_received",
    model=SupportLetter, select_related=("proposal__pi",),
    context=lambda letter, n: {"proposal": letter.proposal, "letter": letter,
                               "url": reverse("proposals:edit", kwargs={"pk": letter.proposal_id})},
))


# The reminders before and at closing (schedules read by the dispatcher).
from . import reminders  # noqa: E402,F401
