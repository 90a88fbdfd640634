"""Co-applicants (#21): the PI invites colleagues to prepare the proposal with them, and may revoke them; an
invited person accepts with the account of the invited address, and may leave.

Editors (CNRS colleagues) read and change the draft with the PI (``rules.is_proposal_coapplicant``); readers
(the foreign partner, read-only, with an account of their own) read it. Only the PI submits, withdraws and
invites. Revoking keeps the row: the history names it, and the person loses access on their next request,
since every page and API call asks the rules again.
"""

import datetime as dt

from allauth.account.models import EmailAddress
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils.translation import gettext as _

from iea.audit.domain import audit_record

from ..models import CoApplicant, CoApplicantRole, Proposal
from .common import ProposalError, _lock, _now_editable, _require_pi
from .mail import notify_coapplicant_invited, notify_coapplicant_news


class CoApplicantError(ProposalError):
    """A co-applicant's invitation, acceptance or revocation was refused."""


def coapplicant_invite(
    *, proposal_id: int, user, email: str, role: str, language: str, now: dt.datetime,
) -> CoApplicant:
    """The PI invites someone to prepare the draft with them, by e-mail, while the proposal can be changed.
    One live invitation per address (the database's ``coapplicant_live_email_unique``); the PI cannot
    invite themselves."""
    email = email.strip().lower()
    if role not in CoApplicantRole.values:
        raise CoApplicantError(_("Choose the role of the person invited."), code="role")
    with transaction.atomic():
        proposal = _lock(proposal_id, related=("pi",))
        _require_pi(proposal, user, refusal=_("Only the PI can invite co-applicants."))
        _now_editable(proposal, now=now)
        if email == proposal.pi.email.lower():
            raise CoApplicantError(_("This is your own address: you are the PI of this proposal."), code="self")
        if proposal.coapplicants.filter(email=email, revoked_at__isnull=True).exists():
            raise CoApplicantError(_("%(email)s is already invited to this proposal.") % {"email": email},
                                   code="duplicate")
        try:
            with transaction.atomic():
                coapplicant = CoApplicant.objects.create(
                    proposal=proposal, email=email, role=role, language=language, invited_at=now, invited_by=user,
                )
        except IntegrityError:  # the same address invited from another tab in the meantime
            raise CoApplicantError(_("%(email)s is already invited to this proposal.") % {"email": email},
                                   code="duplicate") from None
        audit_record(actor=user, target=proposal, action="proposal.coapplicant_invite", now=now,
                     data={"email": email, "role": role, "coapplicant": coapplicant.pk})
        notify_coapplicant_invited(coapplicant=coapplicant, now=now)
    return coapplicant


def coapplicant_by_nonce(nonce: str) -> CoApplicant | None:
    """The invitation a link names (its random nonce), with what its page shows; None for an unknown link."""
    return (CoApplicant.objects.select_related("proposal__pi", "proposal__call", "invited_by", "user")
            .filter(nonce=nonce).first())


def coapplicant_accept_refusal(coapplicant: CoApplicant, *, user) -> str:
    """Why ``user`` cannot accept this invitation, in words ("" when they can): the one answer for the
    invitation's page and for ``coapplicant_accept``."""
    if coapplicant.revoked_at is not None:
        return _("This invitation was withdrawn by the PI, or you left the proposal. Ask the PI for a new one.")
    if coapplicant.user_id is not None and coapplicant.user_id != user.pk:
        return _("This invitation was already accepted with another account.")
    if coapplicant.proposal.pi_id == user.pk:
        return _("You are the PI of this proposal.")
    if not EmailAddress.objects.filter(user=user, email__iexact=coapplicant.email, verified=True).exists():
        return _("This invitation was sent to %(email)s. Sign in with the account of that address (or create "
                 "one with it), then open the link again.") % {"email": coapplicant.email}
    return ""


def coapplicant_accept(*, coapplicant_id: int, user, now: dt.datetime) -> CoApplicant:
    """The invited person accepts with the account whose verified address is the one invited; from then on
    the proposal is in their list. Accepting twice changes nothing. The row is locked, so a revocation and
    an acceptance cannot both win."""
    with transaction.atomic():
        coapplicant = CoApplicant.objects.select_for_update(of=("self",)).select_related("proposal__pi").get(
            pk=coapplicant_id)
        refusal = coapplicant_accept_refusal(coapplicant, user=user)
        if refusal:
            raise CoApplicantError(refusal, code="forbidden")
        if coapplicant.accepted_at is not None:
            return coapplicant
        coapplicant.user, coapplicant.accepted_at = user, now
        try:
            with transaction.atomic():
                coapplicant.save(update_fields=["user", "accepted_at"])
        except IntegrityError:  # the account already holds a live invitation to this proposal
            raise CoApplicantError(_("You already take part in this proposal."), code="duplicate") from None
        audit_record(actor=user, target=coapplicant.proposal, action="proposal.coapplicant_accept", now=now,
                     data={"email": coapplicant.email, "role": coapplicant.role, "coapplicant": coapplicant.pk})
        notify_coapplicant_news(coapplicant=coapplicant, joined=True, now=now)
    return coapplicant


def coapplicant_revoke(*, coapplicant_id: int, user, now: dt.datetime) -> CoApplicant:
    """The PI revokes an invitation or a co-applicant; a co-applicant leaves (revokes their own). At any
    state of the proposal: access is a matter of who, not of when. Revoking twice changes nothing."""
    with transaction.atomic():
        coapplicant = CoApplicant.objects.select_for_update().get(pk=coapplicant_id)
        proposal: Proposal = _lock(coapplicant.proposal_id)
        leaving = user is not None and coapplicant.user_id is not None and coapplicant.user_id == user.pk
        if not leaving:
            _require_pi(proposal, user, refusal=_("Only the PI can remove a co-applicant."))
        if coapplicant.revoked_at is not None:
            return coapplicant
        coapplicant.revoked_at = now
        coapplicant.save(update_fields=["revoked_at"])
        audit_record(actor=user, target=proposal, now=now,
                     action="proposal.coapplicant_leave" if leaving else "proposal.coapplicant_revoke",
                     data={"email": coapplicant.email, "role": coapplicant.role, "coapplicant": coapplicant.pk})
        if leaving:
            coapplicant.proposal = proposal
            notify_coapplicant_news(coapplicant=coapplicant, joined=False, now=now)
    return coapplicant


def proposal_coapplicants(proposal: Proposal) -> list[CoApplicant]:
    """The live invitations and co-applicants of a proposal (pending first, then by date), for its page."""
    return list(proposal.coapplicants.filter(revoked_at__isnull=True).select_related("user")
                .order_by(F("accepted_at").asc(nulls_first=True), "invited_at", "id"))
