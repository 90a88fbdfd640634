"""The PI's acceptance of an award, and the cancellation of an award that will not be taken up
(domain.md, "After the decision": "a selected PI may decline the award (or not accept it within the set
time); the institute's next proposal on the reserve list may then be selected within the call's
envelope").

- ``award_create`` makes the award *awaiting acceptance* until ``accept_by`` (the call's
  ``award_acceptance_days`` after the decision mail); no tranche is released before it is accepted
  (``tranche_gate`` releases only active awards).
- The PI accepts it (it becomes active) or declines it with a reason (declined), once: the award row is
  locked, so of two clicks at once one wins and the other is told what happened. The unit's managers
  are told either way.
- Directorate staff cancel a declined award, or one not accepted in time, with a reason: its amount no
  longer counts against the call's envelope (``counts_against_envelope``), so a reserve can take it.
"""

import datetime as dt

from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from iea import formats
from iea.audit.domain import audit_record

from ..models import Award, AwardState
from ..rules import is_award_pi
from .awards import FundingError, _lock_award, _require_staff
from .mail import notify_award_answer

REASON_MAX = 4000


def counts_against_envelope(prefix: str = "") -> Q:
    """The selected decisions whose amount the call's envelope still carries: all but those whose award
    was cancelled. ``prefix`` leads from the queried model to the proposal ("" for a proposal,
    "proposal__" for a decision)."""
    return Q(**{f"{prefix}award__isnull": True}) | Q(
        **{f"{prefix}award__state__in": [state for state in AwardState.values if state != AwardState.CANCELLED]})


def _lock_awaiting(award_id: int, user) -> Award:
    award = _lock_award(award_id)
    if not is_award_pi(user, award):
        raise FundingError(_("Only the PI of the award can accept or decline it."), code="forbidden")
    if award.state == AwardState.ACTIVE and award.accepted_at is not None:
        raise FundingError(_("You already accepted this award on %(when)s.") % {
            "when": formats.datetime(award.accepted_at)}, code="answered")
    if award.state == AwardState.DECLINED:
        raise FundingError(_("You already declined this award on %(when)s.") % {
            "when": formats.datetime(award.declined_at)}, code="answered")
    if award.state != AwardState.AWAITING:
        raise FundingError(_("This award is %(state)s; it no longer awaits your answer.") % {
            "state": award.get_state_display().lower()}, code="state")
    return award


def award_accept(*, award_id: int, user, now: dt.datetime) -> Award:
    """The PI accepts the award before its deadline: it becomes active, and tranche 1 can be released."""
    with transaction.atomic():
        award = _lock_awaiting(award_id, user)
        if award.accept_by is not None and now > award.accept_by:
            raise FundingError(
                _("The time to accept this award ended on %(when)s; contact the directorate.")
                % {"when": formats.datetime(award.accept_by)}, code="late")
        award.state, award.accepted_at = AwardState.ACTIVE, now
        award.save(update_fields=["state", "accepted_at"])
        audit_record(actor=user, target=award, action="award.accept", now=now, from_state=AwardState.AWAITING,
                     to_state=award.state)
        notify_award_answer(award, now=now)
    return award


def award_decline(*, award_id: int, user, reason: str, now: dt.datetime) -> Award:
    """The PI declines the award, with a reason the unit and the directorate read; staff then cancel it."""
    reason = (reason or "").strip()
    if not reason:
        raise FundingError(_("Say why you decline the award."), code="reason")
    if len(reason) > REASON_MAX:
        raise FundingError(_("Keep the reason under %(max)s characters.") % {"max": REASON_MAX}, code="reason")
    with transaction.atomic():
        award = _lock_awaiting(award_id, user)
        award.state, award.declined_at, award.decline_reason = AwardState.DECLINED, now, reason
        award.save(update_fields=["state", "declined_at", "decline_reason"])
        audit_record(actor=user, target=award, action="award.decline", now=now, from_state=AwardState.AWAITING,
                     to_state=award.state, reason=reason)
        notify_award_answer(award, now=now)
    return award


def award_cancellable(award: Award, now: dt.datetime) -> bool:
    """A declined award, or one whose time to accept has passed, can be cancelled."""
    return award.state == AwardState.DECLINED or (
        award.state == AwardState.AWAITING and award.accept_by is not None and now > award.accept_by)


def award_cancel(*, award_id: int, user, reason: str, now: dt.datetime) -> Award:
    """Staff cancel a declined award (or one not accepted in time): its amount returns to the call's
    envelope. Nothing was released on it (only an active award releases tranches)."""
    _require_staff(user)
    reason = (reason or "").strip()
    if not reason:
        raise FundingError(_("Give the reason."), code="reason")
    with transaction.atomic():
        award = _lock_award(award_id)
        if not award_cancellable(award, now):
            if award.state == AwardState.AWAITING:
                raise FundingError(_("%(ref)s still awaits the PI's answer until %(when)s.") % {
                    "ref": award.proposal.reference, "when": formats.datetime(award.accept_by)}, code="state")
            raise FundingError(_("%(ref)s is %(state)s; only a declined award, or one not accepted in time, can be "
                                 "cancelled.") % {"ref": award.proposal.reference,
                                                  "state": award.get_state_display().lower()}, code="state")
        before = award.state
        award.state, award.cancelled_at, award.cancel_reason = AwardState.CANCELLED, now, reason
        award.save(update_fields=["state", "cancelled_at", "cancel_reason"])
        audit_record(actor=user, target=award, action="award.cancel", now=now, from_state=before,
                     to_state=award.state, reason=reason, data={"amount": str(award.amount)})
    return award
