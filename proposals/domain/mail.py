"""The messages the proposal's state changes record in the outbox, in the caller's transaction.

A leaf of the domain: it imports only the models and the outbox, so the state changes call it at the top of
their modules, and ``proposals/notifications.py`` (which declares these kinds and renders them) may import
the domain without a circle.
"""

import datetime as dt

from iea.notifications.domain import notify, notify_all
from iea.notifications.kinds import Due, Recipient

from ..models import (
    CoApplicant,
    InformationRequest,
    PartnerInvitation,
    Proposal,
    ProposalVersion,
    SupportLetter,
)


def notify_submitted(*, version: ProposalVersion, now: dt.datetime) -> None:
    """A submission (or resubmission) sends the PI the receipt and, when the proposal names one, the
    partner a short receipt in English."""
    proposal = version.proposal
    receipts = [Due(kind="receipt", target=version, recipients=[Recipient.of(proposal.pi)], occurrence="", due_at=now)]
    if proposal.partner_email:
        receipts.append(Due(kind="receipt_partner", target=version, occurrence="", due_at=now,
                            recipients=[Recipient(email=proposal.partner_email, language="en")]))
    notify_all(dues=receipts, now=now)


def notify_withdrawn(*, proposal: Proposal, now: dt.datetime) -> None:
    """Withdrawing a submitted proposal tells the PI (a draft withdrawn sends nothing: the caller decides)."""
    notify(kind="withdrawn", target=proposal, recipients=[Recipient.of(proposal.pi)], now=now)


def notify_invited(*, invitation: PartnerInvitation, now: dt.datetime) -> None:
    """The partner receives the invitation link, in the language the PI chose for them."""
    notify(kind="partner_invitation", target=invitation, now=now,
           recipients=[Recipient(email=invitation.email, language=invitation.language)])


def notify_letter_received(*, letter: SupportLetter, now: dt.datetime) -> None:
    """A letter uploaded by the partner (through the link) tells the PI it arrived."""
    notify(kind="letter_received", target=letter, recipients=[Recipient.of(letter.proposal.pi)], now=now)


def information_request_recipients(proposal: Proposal) -> list[Recipient]:
    """Who is told of a request for information: the PI and the co-applicants who reach the proposal (#21)."""
    coapplicants = proposal.coapplicants.filter(
        user__isnull=False, accepted_at__isnull=False, revoked_at__isnull=True).select_related("user").order_by("pk")
    return [Recipient.of(proposal.pi), *(Recipient.of(row.user) for row in coapplicants)]


def notify_information_requested(*, request: InformationRequest, now: dt.datetime) -> None:
    """A request for information tells the PI and the co-applicants what to change, by when, with the link."""
    notify(kind="information_request", target=request, recipients=information_request_recipients(request.proposal),
           now=now)


def notify_coapplicant_invited(*, coapplicant: CoApplicant, now: dt.datetime) -> None:
    """The person the PI invited to prepare the proposal receives the link, in the language the PI chose."""
    notify(kind="coapplicant_invitation", target=coapplicant, now=now,
           recipients=[Recipient(email=coapplicant.email, language=coapplicant.language)])


def notify_coapplicant_news(*, coapplicant: CoApplicant, joined: bool, now: dt.datetime) -> None:
    """The PI learns that a colleague accepted the invitation, or left the proposal of their own accord."""
    notify(kind="coapplicant_joined" if joined else "coapplicant_left", target=coapplicant, now=now,
           recipients=[Recipient.of(coapplicant.proposal.pi)])
