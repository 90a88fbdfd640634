"""The support letter, uploaded by the PI or by the partner through a signed, expiring invitation link."""

import datetime as dt
from decimal import Decimal

from django.conf import settings
from django.core import signing
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils.translation import gettext as _

from calls.domain import call_deadline
from iea.audit.domain import audit_record
from iea.files import delete_on_commit

from ..letters import CheckedPdf
from ..models import (
    PartnerInvitation,
    Proposal,
    SupportLetter,
)
from .common import ProposalError, _lock, _now_editable, _require_pi, _touch


def letter_attach(
    *, proposal_id: int, pdf: CheckedPdf, now: dt.datetime, user=None, invitation: PartnerInvitation | None = None,
    cofunding: bool = False, cofunding_amount: Decimal | None = None, cofunding_currency: str = "",
) -> SupportLetter:
    """Store a checked support letter (see ``letters.check_pdf``) for the PI or the invited partner.

    The letter it replaces is deleted, row and file (the file once the transaction commits), unless a
    submitted version points to it: what was submitted stays as it was, every other replaced letter goes.
    """
    if cofunding and cofunding_amount is None:
        raise ProposalError(_("State the co-funding amount, or untick co-funding."), code="cofunding")
    with transaction.atomic():
        proposal = _lock(proposal_id)
        if invitation is None:
            _require_pi(proposal, user)
        elif invitation.proposal_id != proposal.pk or invitation.revoked_at is not None or now >= invitation.expires_at:
            raise ProposalError(_("This invitation link no longer gives access to the proposal."), code="forbidden")
        _now_editable(proposal, now=now)
        letter = SupportLetter(
            proposal=proposal, original_name=pdf.display_name, size=pdf.size, sha256=pdf.sha256, pages=pdf.pages,
            cofunding=cofunding, cofunding_amount=cofunding_amount if cofunding else None,
            cofunding_currency=(cofunding_currency or "").upper()[:3] if cofunding else "",
            uploaded_at=now, uploaded_by=user, uploaded_by_partner=invitation is not None,
        )
        letter.file.save("letter.pdf", ContentFile(pdf.content), save=False)
        try:
            letter.save()
        except Exception:
            letter.file.delete(save=False)
            raise
        _forget_replaced_letters(proposal, keep=letter)
        _touch(proposal, now=now)
        audit_record(
            actor=user, target=proposal, action="proposal.letter_upload", now=now,
            actor_label=_partner_label(invitation),
            data={"sha256": pdf.sha256, "size": pdf.size, "name": pdf.display_name},
        )
        if invitation is not None:
            from ..notifications import notify_letter_received

            notify_letter_received(letter, now=now)
    return letter


def _forget_replaced_letters(proposal: Proposal, *, keep: SupportLetter) -> None:
    """Delete the proposal's letters that no longer count and that no submitted version points to."""
    current = current_letter(proposal)
    replaced = dict(proposal.letters.filter(versions__isnull=True).exclude(pk__in={keep.pk, current.pk})
                    .values_list("pk", "file"))
    if replaced:
        SupportLetter.objects.filter(pk__in=replaced).delete()
        delete_on_commit(replaced.values())


def _partner_label(invitation: PartnerInvitation | None) -> str:
    return f"partner <{invitation.email}> via invitation #{invitation.pk}" if invitation else ""


def current_letter(proposal: Proposal) -> SupportLetter | None:
    return proposal.letters.order_by("-uploaded_at", "-id").first()



_INVITATION_SALT = "proposals.partner-invitation"


def invitation_token(invitation: PartnerInvitation) -> str:
    """The link's secret: the invitation's random nonce, signed with the site's key."""
    return signing.Signer(salt=_INVITATION_SALT).sign(invitation.nonce)


def invitation_create(*, proposal_id: int, user, email: str, language: str, now: dt.datetime) -> PartnerInvitation:
    """Invite the foreign partner by e-mail. Earlier links of this proposal stop working.

    The link expires after ``PARTNER_INVITATION_DAYS`` or at the call's deadline, whichever comes first.
    """
    with transaction.atomic():
        proposal = _lock(proposal_id)
        if proposal.pi_id != user.pk:
            raise ProposalError(_("Only the PI can invite the partner."), code="forbidden")
        _now_editable(proposal, now=now)
        proposal.invitations.filter(revoked_at__isnull=True).update(revoked_at=now)
        expires_at = min(now + dt.timedelta(days=settings.PARTNER_INVITATION_DAYS), call_deadline(proposal.call))
        invitation = PartnerInvitation.objects.create(
            proposal=proposal, email=email.lower(), language=language, created_at=now, created_by=user,
            expires_at=expires_at,
        )
        audit_record(actor=user, target=proposal, action="proposal.invite_partner", now=now, data={"email": email})
        from ..notifications import notify_invited

        notify_invited(invitation, now=now)
    return invitation


class InvitationInvalid(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def invitation_resolve(token: str, *, now: dt.datetime) -> PartnerInvitation:
    """The invitation a link stands for, if it is genuine, not revoked and not expired."""
    try:
        nonce = signing.Signer(salt=_INVITATION_SALT).unsign(token)
    except signing.BadSignature:
        raise InvitationInvalid(_("This invitation link is not valid. Check that you copied it whole.")) from None
    invitation = PartnerInvitation.objects.select_related("proposal__call", "proposal__pi").filter(nonce=nonce).first()
    if invitation is None:
        raise InvitationInvalid(_("This invitation link is not valid. Check that you copied it whole."))
    if invitation.revoked_at is not None:
        raise InvitationInvalid(_("This invitation was replaced by a newer one. Use the link in the latest e-mail."))
    if now >= invitation.expires_at:
        raise InvitationInvalid(_("This invitation has expired. Ask the PI to send a new one."))
    return invitation
