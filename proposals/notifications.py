"""The PI's and the partner's messages about a proposal (domain.md, notifications): their kinds.

Events (recorded by the domain functions, in their transaction, through ``domain/mail.py``): receipts of
each submission, the withdrawal notice, the partner's invitation and the letter received. Reminders are in
``reminders``.
"""

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from iea.notifications.kinds import Kind, register

from .domain import invitation_token
from .domain.common import information_item_label
from .models import (
    CoApplicant,
    InformationRequest,
    PartnerInvitation,
    Proposal,
    ProposalVersion,
    SupportLetter,
)
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


def _information_context(request, notification):
    return {"request": request, "proposal": request.proposal, "deadline": request.deadline,
            "items": [information_item_label(item) for item in request.items],
            "url": reverse("proposals:edit", kwargs={"pk": request.proposal_id})}


def _information_skip(request, notification, now):
    if not request.is_open_at(now):
        return _("The request for information was answered, cancelled or has expired.")
    return ""


_INFORMATION = {"model": InformationRequest, "select_related": ("proposal__pi", "proposal__call"),
                "context": _information_context, "skip": _information_skip}
register(Kind(name="information_request", label=_("Request for information"), template="information_request",
              **_INFORMATION))
register(Kind(name="information_request_reminder", label=_("Reminder: request for information unanswered"),
              template="information_request_reminder", **_INFORMATION))
def _coapplicant_skip(coapplicant, notification, now):
    return _("The invitation was revoked.") if coapplicant.revoked_at is not None else ""


register(Kind(
    name="coapplicant_invitation", label=_("Invitation of a co-applicant"), template="coapplicant_invitation",
    model=CoApplicant, select_related=("proposal__pi", "proposal__call"),
    context=lambda coapplicant, n: {
        "coapplicant": coapplicant, "proposal": coapplicant.proposal, "editor": coapplicant.role == "editor",
        "url": reverse("proposals:coapplicant_accept", kwargs={"nonce": coapplicant.nonce}),
    },
    skip=_coapplicant_skip,
))


def _coapplicant_news_context(coapplicant, notification) -> dict:
    person = coapplicant.user
    return {"coapplicant": coapplicant, "proposal": coapplicant.proposal, "editor": coapplicant.role == "editor",
            "name": person.get_full_name() if person is not None else "",
            "email": person.email if person is not None else coapplicant.email,
            "url": _detail(coapplicant.proposal) + "#coapplicants"}


def _joined_skip(coapplicant, notification, now):
    return _("The co-applicant left or was removed since.") if coapplicant.revoked_at is not None else ""


register(Kind(
    name="coapplicant_joined", label=_("A co-applicant joined the proposal"), template="coapplicant_joined",
    model=CoApplicant, select_related=("proposal__pi", "proposal__call", "user"),
    context=_coapplicant_news_context, skip=_joined_skip,
))
register(Kind(
    name="coapplicant_left", label=_("A co-applicant left the proposal"), template="coapplicant_left",
    model=CoApplicant, select_related=("proposal__pi", "proposal__call", "user"),
    context=_coapplicant_news_context,
))


# The reminders before and at closing (schedules read by the dispatcher).
from . import reminders  # noqa: E402,F401
