"""Awards and their tranches (domain.md, "Award → tranches"; call text §5: "allocated in annual tranches
in view of the initial project and the annual scientific reviews and financial reports").

- A selected decision, once announced, becomes an award for the decided amount, managed by the PI's
  unit, starting the first day of the next month and lasting the call's duration.
- Two annual tranches by default, 50/50; staff may change a planned tranche (the sum never exceeds the
  award: checked here, and refused by the database).
- Tranche 1 can be released at once; tranche N > 1 only after the reports of year N − 1 are approved.
"""

import calendar
import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from iea import formats
from iea.audit.domain import audit_record
from iea.errors import DomainError
from iea.roles import is_directorate
from proposals.models import Proposal, ProposalState

from ..models import (
    Award,
    AwardBudgetLine,
    AwardState,
    Report,
    ReportPeriod,
    ReportState,
    Tranche,
    TrancheState,
)
from ..rules import is_award_unit_manager
from .mail import notify_tranche
from .versions import award_version_create, initial_budget_plan

TRANCHES = 2
# Which report must be approved before a tranche is released: tranche 2 needs year 1's.
GATING_REPORT = {2: ReportPeriod.YEAR_1}


class FundingError(DomainError):
    """A funding rule refused the request."""


def add_months(day: dt.date, months: int) -> dt.date:
    month = day.month - 1 + months
    year = day.year + month // 12
    month = month % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def split_amount(amount: Decimal, parts: int = TRANCHES) -> list[Decimal]:
    """Equal shares to the cent; the last share takes the rounding, so the shares add up exactly."""
    share = (amount / parts).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return [share] * (parts - 1) + [amount - share * (parts - 1)]


def acceptance_deadline(now: dt.datetime, days: int) -> dt.datetime:
    """The end of the ``days``-th day after ``now``, Paris time: the moment an award must be accepted by."""
    day = timezone.localdate(now) + dt.timedelta(days=days)
    return timezone.make_aware(dt.datetime.combine(day, dt.time(23, 59)))


def award_create(*, decision, user, now: dt.datetime) -> Award:
    """Create the award of a selected, announced decision (idempotent: one award per proposal). It awaits
    the PI's acceptance until the end of the call's ``award_acceptance_days`` (domain.md, "Reserve list")."""
    with transaction.atomic():
        proposal = Proposal.objects.select_for_update(of=("self",)).select_related("call", "unit").get(pk=decision.proposal_id)
        existing = Award.objects.filter(proposal=proposal).first()
        if existing is not None:
            return existing
        if decision.outcome != "selected" or decision.amount is None:
            raise FundingError(_("Only a selected proposal with an amount is funded."), code="not_selected")
        if proposal.unit_id is None:
            raise FundingError(_("The proposal has no CNRS unit to manage the award."), code="no_unit")
        today = timezone.localdate(now)
        start = add_months(today.replace(day=1), 1)
        award = Award.objects.create(
            proposal=proposal, unit=proposal.unit, amount=decision.amount, start_date=start,
            end_date=add_months(start, proposal.call.duration_months), created_at=now,
            # The PI accepts or declines it first (funding.domain.acceptance); until then nothing is released.
            state=AwardState.AWAITING, accept_by=acceptance_deadline(now, proposal.call.award_acceptance_days),
        )
        Tranche.objects.bulk_create(
            Tranche(award=award, number=number, planned_date=add_months(start, 12 * (number - 1)), amount=amount)
            for number, amount in enumerate(split_amount(decision.amount), start=1)
        )
        Report.objects.bulk_create(Report(award=award, period=period, updated_at=now) for period in ReportPeriod.values)
        AwardBudgetLine.objects.bulk_create(initial_budget_plan(award))
        award_version_create(award=award, user=user, now=now)
        before = proposal.state
        proposal.state = ProposalState.FUNDED
        proposal.save(update_fields=["state"])
        audit_record(actor=user, target=award, action="award.create", now=now, to_state=award.state,
                     data={"amount": str(award.amount), "proposal": proposal.reference})
        audit_record(actor=user, target=proposal, action="proposal.funded", now=now, from_state=before,
                     to_state=proposal.state)
    return award


def _require_staff(user) -> None:
    if not is_directorate(user):
        raise FundingError(_("Only directorate staff can do this."), code="forbidden")


def _lock_award(award_id: int) -> Award:
    return Award.objects.select_for_update(of=("self",)).select_related("proposal__call", "unit").get(pk=award_id)


def tranche_update(*, tranche_id: int, user, amount: Decimal, planned_date: dt.date, now: dt.datetime) -> Tranche:
    """Staff change a planned tranche. The tranches of an award never add up to more than the award."""
    _require_staff(user)
    with transaction.atomic():
        tranche = Tranche.objects.get(pk=tranche_id)
        award = _lock_award(tranche.award_id)
        tranche = Tranche.objects.select_for_update().get(pk=tranche_id)
        if tranche.state != TrancheState.PLANNED:
            raise FundingError(_("Only a planned tranche can be changed."), code="not_planned")
        if amount < 0:
            raise FundingError(_("A tranche cannot be negative."), code="negative")
        others = award.tranches.exclude(pk=tranche.pk).aggregate(total=Sum("amount"))["total"] or Decimal(0)
        if others + amount > award.amount:
            raise FundingError(
                _("The tranches would add up to %(total)s, more than the award of %(award)s.")
                % {"total": formats.money(others + amount), "award": formats.money(award.amount)},
                code="over_award",
            )
        before = (str(tranche.amount), tranche.planned_date.isoformat())
        tranche.amount, tranche.planned_date = amount, planned_date
        tranche.save(update_fields=["amount", "planned_date"])
        audit_record(actor=user, target=tranche, action="tranche.update", now=now,
                     data={"before": before, "after": (str(amount), planned_date.isoformat())})
    return tranche


def tranche_gate(tranche: Tranche) -> str:
    """Why this tranche cannot be released now, or '' if it can."""
    award = tranche.award
    if award.state == AwardState.AWAITING:
        return _("The PI has not accepted the award yet; no tranche is released before.")
    if award.state != AwardState.ACTIVE:
        return _("The award is %(state)s.") % {"state": award.get_state_display().lower()}
    if tranche.state != TrancheState.PLANNED:
        return _("This tranche is already %(state)s.") % {"state": tranche.get_state_display().lower()}
    earlier = [t for t in award.tranches.all() if t.number < tranche.number and t.state != TrancheState.RELEASED]
    if earlier:
        return _("Tranche %(number)s has not been released yet.") % {"number": earlier[0].number}
    period = GATING_REPORT.get(tranche.number)
    if period is not None:
        report = next((r for r in award.reports.all() if r.period == period), None)
        if report is None or report.state != ReportState.APPROVED:
            state = report.get_state_display().lower() if report else _("not started")
            return _(
                "Tranche %(number)s is released only after the %(period)s reports are approved; they are: %(state)s."
            ) % {"number": tranche.number, "period": ReportPeriod(period).label.lower(), "state": state}
    return ""


def tranche_release(*, tranche_id: int, user, now: dt.datetime) -> Tranche:
    """Release a tranche through the gate (``tranche_gate``); the PI and the unit managers are told."""
    _require_staff(user)
    with transaction.atomic():
        award = _lock_award(Tranche.objects.values_list("award_id", flat=True).get(pk=tranche_id))
        tranche = Tranche.objects.select_for_update().get(pk=tranche_id)
        tranche.award = award
        reason = tranche_gate(tranche)
        if reason:
            raise FundingError(reason, code="gate")
        tranche.state, tranche.decided_at, tranche.decided_by = TrancheState.RELEASED, now, user
        tranche.save(update_fields=["state", "decided_at", "decided_by"])
        audit_record(actor=user, target=tranche, action="tranche.release", now=now,
                     from_state=TrancheState.PLANNED, to_state=tranche.state, data={"amount": str(tranche.amount)})
        notify_tranche(tranche, now=now)
    return tranche


def tranche_withhold(*, tranche_id: int, user, reason: str, now: dt.datetime) -> Tranche:
    """Withhold a planned tranche, with the reason the PI and the unit receive."""
    _require_staff(user)
    reason = (reason or "").strip()
    if not reason:
        raise FundingError(_("Give the reason for withholding the tranche."), code="reason")
    with transaction.atomic():
        tranche = Tranche.objects.select_for_update().get(pk=tranche_id)
        if tranche.state != TrancheState.PLANNED:
            raise FundingError(_("Only a planned tranche can be withheld."), code="not_planned")
        tranche.state, tranche.decided_at, tranche.decided_by, tranche.withheld_reason = (
            TrancheState.WITHHELD, now, user, reason)
        tranche.save(update_fields=["state", "decided_at", "decided_by", "withheld_reason"])
        audit_record(actor=user, target=tranche, action="tranche.withhold", now=now,
                     from_state=TrancheState.PLANNED, to_state=tranche.state, reason=reason)
        notify_tranche(tranche, now=now)
    return tranche


def tranche_confirm_receipt(*, tranche_id: int, user, now: dt.datetime) -> Tranche:
    """The unit manager confirms the unit received a released tranche (once)."""
    with transaction.atomic():
        tranche = Tranche.objects.select_for_update().select_related("award__unit").get(pk=tranche_id)
        if not is_award_unit_manager(user, tranche.award):
            raise FundingError(_("Only a manager of the award's unit can confirm receipt."), code="forbidden")
        if tranche.state != TrancheState.RELEASED:
            raise FundingError(_("Only a released tranche can be received."), code="not_released")
        if tranche.received_at is not None:
            return tranche
        tranche.received_at, tranche.received_by = now, user
        tranche.save(update_fields=["received_at", "received_by"])
        audit_record(actor=user, target=tranche, action="tranche.receipt", now=now)
    return tranche


def award_close(*, award_id: int, user, now: dt.datetime) -> Award:
    """Close an award once its final report is approved (called by the report's approval)."""
    with transaction.atomic():
        award = _lock_award(award_id)
        if award.state == AwardState.CLOSED:
            return award
        final = award.reports.filter(period=ReportPeriod.FINAL).first()
        if final is None or final.state != ReportState.APPROVED:
            raise FundingError(_("The award closes when its final report is approved."), code="final_report")
        before = award.state
        award.state, award.closed_at = AwardState.CLOSED, now
        award.save(update_fields=["state", "closed_at"])
        audit_record(actor=user, target=award, action="award.close", now=now, from_state=before, to_state=award.state)
    return award


# The moves staff make by hand (award_set_state): suspend an active award, resume a suspended one.
AWARD_STATE_MOVES = {(AwardState.ACTIVE, AwardState.SUSPENDED), (AwardState.SUSPENDED, AwardState.ACTIVE)}


def award_state_refusal(award: Award, state: str) -> str:
    """Why ``award`` cannot be moved to ``state`` by hand ('' if it can); the confirmation asks it too."""
    if (award.state, state) in AWARD_STATE_MOVES:
        return ""
    return _("An award that is %(state)s cannot become %(new)s.") % {
        "state": award.get_state_display().lower(), "new": AwardState(state).label.lower()}


def award_set_state(*, award_id: int, user, state: str, reason: str, now: dt.datetime) -> Award:
    """Staff suspend an active award or resume a suspended one, with a reason."""
    _require_staff(user)
    with transaction.atomic():
        award = _lock_award(award_id)
        refusal = award_state_refusal(award, state)
        if refusal:
            raise FundingError(refusal, code="transition")
        if not (reason or "").strip():
            raise FundingError(_("Give the reason."), code="reason")
        before = award.state
        award.state = state
        award.save(update_fields=["state"])
        audit_record(actor=user, target=award, action="award.state", now=now, from_state=before, to_state=state,
                     reason=reason.strip())
    return award
