"""The support letter, uploaded by the PI or by the partner through a signed, expiring invitation link."""

import datetime as dt
from decimal import Decimal

from django.conf import settings
from django.core import signing
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils.translation import gettext as _

from calls.domain import call_deadline
from iea import formats
from iea.audit.domain import audit_record
from iea.files import delete_on_commit

from ..letters import CheckedPdf
from ..models import (
    RFI_LETTER,
    InvitationRevoked,
    PartnerInvitation,
    Proposal,
    ProposalState,
    ProposalVersion,
    SupportLetter,
)
from .common import ProposalError, _lock, _now_editable, _require_applicant, _require_pi, _touch
from .mail import notify_invited, notify_letter_received


def letter_attach(
    *, proposal_id: int, pdf: CheckedPdf, now: dt.datetime, user=None, invitation: PartnerInvitation | None = None,
    cofunding: bool = False, cofunding_amount: Decimal | None = None, cofunding_currency: str = "",
) -> SupportLetter:
    """Store a checked support letter (see ``letters.check_pdf``) for the PI or the invited partner.

    The letter it replaces is deleted, row and file (the file once the transaction commits), unless a
    submitted version points to it: what was submitted stays as it was, every other replaced letter goes.
    The partner's invitation is read again under a row lock, after the proposal's: a change of partner
    (which revokes the link in ``proposal_save_draft``, under the same locks) and an upload through the old
    link cannot both win.
    """
    if cofunding and cofunding_amount is None:
        raise ProposalError(_("State the co-funding amount, or untick co-funding."), code="cofunding")
    with transaction.atomic():
        proposal = _lock(proposal_id)
        if invitation is None:
            _require_applicant(proposal, user)
        else:
            invitation = PartnerInvitation.objects.select_for_update().get(pk=invitation.pk)
            closed = invitation_closed_reason(invitation, proposal=proposal, now=now)
            if invitation.proposal_id != proposal.pk or closed:
                raise ProposalError(closed or _("This invitation link no longer gives access to the proposal."),
                                    code="forbidden")
        _now_editable(proposal, now=now, items=[RFI_LETTER])
        letter = SupportLetter(
            proposal=proposal, original_name=pdf.display_name, size=pdf.size, sha256=pdf.sha256, pages=pdf.pages,
            cofunding=cofunding, cofunding_amount=cofunding_amount if cofunding else None,
            cofunding_currency=(cofunding_currency or "").upper()[:3] if cofunding else "",
            uploaded_at=now, uploaded_by=user, uploaded_by_partner=invitation is not None, uploaded_via=invitation,
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
            notify_letter_received(letter=letter, now=now)
    return letter


def _forget_replaced_letters(proposal: Proposal, *, keep: SupportLetter) -> None:
    """Delete the proposal's letters that no longer count and that no submitted version points to: all but
    ``keep`` and the current one (``current_letter``'s order), read in one query."""
    letters = list(proposal.letters.order_by("-uploaded_at", "-id")
                   .annotate(submitted=Exists(ProposalVersion.objects.filter(letter=OuterRef("pk"))))
                   .values_list("pk", "file", "submitted"))
    current = letters[0][0]
    replaced = {pk: file for pk, file, submitted in letters if not submitted and pk not in {keep.pk, current}}
    if replaced:
        SupportLetter.objects.filter(pk__in=replaced).delete()
        delete_on_commit(replaced.values())


def _partner_label(invitation: PartnerInvitation | None) -> str:
    return f"partner <{invitation.email}> via invitation #{invitation.pk}" if invitation else ""


def current_letter(proposal: Proposal) -> SupportLetter | None:
    return proposal.letters.select_related("uploaded_via").order_by("-uploaded_at", "-id").first()


def letter_from_former_partner(proposal: Proposal, letter: SupportLetter | None) -> bool:
    """Whether the letter came through the link of someone who is no longer the proposal's partner. It
    stays attached (the PI may keep it: the support may still hold), and the PI's page says who sent it."""
    via = letter.uploaded_via if letter is not None else None
    return via is not None and via.email.lower() != (proposal.partner_email or "").lower()


def partner_invitations(proposal: Proposal) -> list[PartnerInvitation]:
    """The invitations sent for the proposal, the last one first: what the PI's letter section reads (the
    link that still works, ``partner_needs_invitation``), in one query."""
    return list(proposal.invitations.order_by("-created_at", "-pk"))


def current_invitation(invitations: list[PartnerInvitation]) -> PartnerInvitation | None:
    """The link that still works, of ``partner_invitations`` (sending one revokes the others)."""
    return next((invitation for invitation in invitations if invitation.revoked_at is None), None)


def partner_needs_invitation(proposal: Proposal, *, invitations: list[PartnerInvitation] | None = None
                             ) -> PartnerInvitation | None:
    """The last link, when the PI changed the partner since sending it and sent none to the new one: the
    PI's page asks for an invitation to the new partner (none is sent on the PI's behalf). ``invitations``:
    ``partner_invitations(proposal)`` when the caller read them already."""
    if invitations is None:
        last = proposal.invitations.order_by("-created_at", "-pk").first()
    else:
        last = invitations[0] if invitations else None
    if last is not None and last.revoked_reason == InvitationRevoked.PARTNER_CHANGED:
        return last
    return None



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
        _require_pi(proposal, user, refusal=_("Only the PI can invite the partner."))
        _now_editable(proposal, now=now, items=[RFI_LETTER])
        proposal.invitations.filter(revoked_at__isnull=True).update(revoked_at=now, revoked_reason=InvitationRevoked.REPLACED)
        expires_at = min(now + dt.timedelta(days=settings.PARTNER_INVITATION_DAYS), call_deadline(proposal.call))
        invitation = PartnerInvitation.objects.create(
            proposal=proposal, email=email.lower(), language=language, created_at=now, created_by=user,
            expires_at=expires_at,
        )
        audit_record(actor=user, target=proposal, action="proposal.invite_partner", now=now, data={"email": email})
        notify_invited(invitation=invitation, now=now)
    return invitation


def partner_links_revoke(*, proposal: Proposal, email: str, user, now: dt.datetime) -> list[str]:
    """The partner's e-mail became ``email``: the links sent to anyone else stop working, so a former
    partner can neither read the proposal (nor the new partner's contact) nor upload a letter that counts.

    Called by ``proposal_save_draft`` inside its transaction, with the proposal row locked; the
    invitations are locked too, so an upload through an old link waits and then finds it revoked. A link
    already sent to the new address stays valid. The PI is not mailed and nothing is sent on their behalf:
    their page says the new partner needs an invitation. Returns the addresses whose links were revoked.
    """
    outstanding = list(proposal.invitations.select_for_update().filter(revoked_at__isnull=True))
    revoked = [invitation for invitation in outstanding if invitation.email.lower() != email.lower()]
    for invitation in revoked:
        invitation.revoked_at, invitation.revoked_reason = now, InvitationRevoked.PARTNER_CHANGED
        invitation.save(update_fields=["revoked_at", "revoked_reason"])
    emails = sorted({invitation.email for invitation in revoked})
    if revoked:
        audit_record(actor=user, target=proposal, action="proposal.partner_links_revoked", now=now,
                     data={"emails": emails, "invitations": [invitation.pk for invitation in revoked],
                           "new_email": email})
    return emails


class InvitationInvalid(Exception):
    """A partner link that opens nothing. ``gone``: a genuine link that no longer works (replaced, the
    partner changed, expired, the proposal withdrawn), explained with 410 like the other closed links;
    otherwise a link that is not genuine (403)."""

    def __init__(self, message: str, *, gone: bool = False):
        super().__init__(message)
        self.message = message
        self.gone = gone


def invitation_closed_reason(invitation: PartnerInvitation, *, proposal: Proposal, now: dt.datetime) -> str:
    """Why a genuine link no longer gives access, in words for its holder; "" while it does. The one
    answer for the partner's page, the download and the upload."""
    if proposal.state == ProposalState.WITHDRAWN:
        return _("The PI withdrew this proposal: it is no longer being considered, and this link no longer opens it.")
    if invitation.revoked_at is not None:
        if invitation.revoked_reason == InvitationRevoked.PARTNER_CHANGED:
            return _("On %(date)s the PI named another foreign partner for this proposal: this link, sent to "
                     "%(email)s, no longer opens it. If you are still the partner, ask the PI for a new "
                     "invitation.") % {"date": formats.datetime(invitation.revoked_at), "email": invitation.email}
        return _("This invitation was replaced by a newer one. Use the link in the latest e-mail.")
    if now >= invitation.expires_at:
        return _("This invitation has expired. Ask the PI to send a new one.")
    return ""


def invitation_resolve(token: str, *, now: dt.datetime) -> PartnerInvitation:
    """The invitation a link stands for, if it is genuine and still gives access (``invitation_closed_reason``)."""
    try:
        nonce = signing.Signer(salt=_INVITATION_SALT).unsign(token)
    except signing.BadSignature:
        raise InvitationInvalid(_("This invitation link is not valid. Check that you copied it whole.")) from None
    invitation = PartnerInvitation.objects.select_related("proposal__call", "proposal__pi").filter(nonce=nonce).first()
    if invitation is None:
        raise InvitationInvalid(_("This invitation link is not valid. Check that you copied it whole."))
    closed = invitation_closed_reason(invitation, proposal=invitation.proposal, now=now)
    if closed:
        raise InvitationInvalid(closed, gone=True)
    return invitation
