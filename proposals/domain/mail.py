"""The messages the proposal's state changes record in the outbox, in the caller's transaction.

A leaf of the domain: it imports only the models and the outbox, so the state changes call it at the top of
their modules, and ``proposals/notifications.py`` (which declares these kinds and renders them) may import
the domain without a circle.
"""

import datetime as dt

from iea.notifications.domain import notify, notify_all
from iea.notifications.kinds import Due, Recipient

from ..models import PartnerInvitation, Proposal, ProposalVersion, SupportLetter


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
