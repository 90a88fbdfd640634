"""What the unit spends on an award, recorded by the unit manager, against the award per category."""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from iea import formats
from iea.audit.domain import audit_record
from proposals.models import BudgetCategory

from ..models import EDITABLE_REPORT_STATES, Award, AwardState, Report, ReportPeriod, SpendingLine
from ..rules import is_award_unit_manager
from .awards import FundingError
from .reports import report_due


def _check_line(*, award: Award, date: dt.date, category: str, amount: Decimal, description: str,
                now: dt.datetime) -> str:
    """The rules of one expense, on record and on correction; returns the description, trimmed."""
    if category not in BudgetCategory.values:
        raise FundingError(_("Choose a spending category."), code="category")
    if amount is None or amount <= 0:
        raise FundingError(_("The amount must be more than zero."), code="amount")
    if date is None:
        raise FundingError(_("Give the date of the expense."), code="date")
    today = timezone.localdate(now)
    if date > today:
        raise FundingError(_("The date %(date)s is in the future: record an expense once it is paid.") % {
            "date": formats.date(date)}, code="date")
    if not (award.start_date <= date <= award.end_date):
        raise FundingError(_("The date must fall within the award, from %(start)s to %(end)s.") % {
            "start": formats.date(award.start_date), "end": formats.date(award.end_date)}, code="date")
    description = (description or "").strip()
    if not description:
        raise FundingError(_("Describe the expense."), code="description")
    if len(description) > SpendingLine._meta.get_field("description").max_length:
        raise FundingError(_("Keep the description under 300 characters."), code="description")
    if amount >= Decimal("10000000"):
        raise FundingError(_("This amount is too large for one expense."), code="amount")
    if award.state == AwardState.CLOSED:
        raise FundingError(_("The award is closed: no more spending can be recorded."), code="closed")
    if award.state in (AwardState.DECLINED, AwardState.CANCELLED):
        raise FundingError(_("The award was declined or cancelled: nothing is paid on it, so no spending is "
                             "recorded."), code="closed")
    return description


def spending_record(
    *, award_id: int, user, date: dt.date, category: str, amount: Decimal, description: str, now: dt.datetime,
) -> SpendingLine:
    """The unit manager records an expense already paid, dated within the award. Spending is tracked, not
    capped: the chart shows overspending."""
    award = Award.objects.select_related("unit", "proposal").get(pk=award_id)
    if not is_award_unit_manager(user, award):
        raise FundingError(_("Only a manager of the award's unit records spending."), code="forbidden")
    description = _check_line(award=award, date=date, category=category, amount=amount, description=description,
                              now=now)
    with transaction.atomic():
        line = SpendingLine.objects.create(
            award=award, date=date, category=category, amount=amount, description=description,
            recorded_at=now, recorded_by=user,
        )
        audit_record(actor=user, target=award, action="spending.record", now=now,
                     data={"line": line.pk, "category": category, "amount": str(amount)})
    return line


def covering_report(award: Award, reports, day: dt.date) -> Report | None:
    """The submitted (or approved) report among ``reports`` (the award's) that already covers ``day``: the
    year-1 report covers the first 12 months, the final report the whole award. The PI and the partner
    signed a financial report on those figures, so the unit's lines of that period no longer change."""
    for report in reports:
        # The report's state, not ``Report.editable``: a draft of a suspended award covers nothing either.
        if report.state in EDITABLE_REPORT_STATES:
            continue
        if report.period == ReportPeriod.FINAL or day < report_due(award, ReportPeriod.YEAR_1):
            return report
    return None


def _lock_line(line_id: int, user) -> SpendingLine:
    line = SpendingLine.objects.select_for_update(of=("self",)).select_related("award__unit").get(pk=line_id)
    if not is_award_unit_manager(user, line.award) or line.recorded_by_id != user.pk:
        raise FundingError(_("Only the unit manager who recorded this expense can correct it."), code="forbidden")
    report = covering_report(line.award, line.award.reports.all(), line.date)
    if report is not None:
        raise FundingError(
            _("This expense is covered by the %(period)s report, which is %(state)s; it can no longer change.")
            % {"period": report.get_period_display().lower(), "state": report.get_state_display().lower()},
            code="reported")
    return line


def spending_update(
    *, line_id: int, user, date: dt.date, category: str, amount: Decimal, description: str, now: dt.datetime,
) -> SpendingLine:
    """The manager who recorded an expense corrects it, under the rules of ``spending_record``, unless a
    submitted report covers it (``reported_period``). The audit keeps the line as it was."""
    with transaction.atomic():
        line = _lock_line(line_id, user)
        description = _check_line(award=line.award, date=date, category=category, amount=amount,
                                  description=description, now=now)
        before = {"date": line.date.isoformat(), "category": line.category, "amount": str(line.amount),
                  "description": line.description}
        line.date, line.category, line.amount, line.description = date, category, amount, description
        line.save(update_fields=["date", "category", "amount", "description"])
        audit_record(actor=user, target=line.award, action="spending.update", now=now,
                     data={"line": line.pk, "before": before,
                           "after": {"date": date.isoformat(), "category": category, "amount": str(amount),
                                     "description": description}})
    return line


def spending_delete(*, line_id: int, user, now: dt.datetime) -> Award:
    """The manager who recorded an expense deletes it (a mistake, a duplicate), unless a submitted
    report covers it. The audit keeps what it was."""
    with transaction.atomic():
        line = _lock_line(line_id, user)
        award = line.award
        if award.state == AwardState.CLOSED:
            raise FundingError(_("The award is closed: its spending no longer changes."), code="closed")
        audit_record(actor=user, target=award, action="spending.delete", now=now,
                     data={"line": line.pk, "date": line.date.isoformat(), "category": line.category,
                           "amount": str(line.amount), "description": line.description})
        line.delete()
    return award


@dataclass(frozen=True)
class CategoryConsumption:
    category: str
    label: str
    planned: Decimal
    spent: Decimal


def award_consumption(award: Award) -> list[CategoryConsumption]:
    """Per category: the award's budget plan (the proposal's budget scaled to the award, then moved by the approved
    transfers: ``funding.domain.versions``) and what the unit spent."""
    spent = dict(award.spending_lines.values_list("category").annotate(total=Sum("amount")).values_list("category", "total"))
    planned = dict(award.budget_lines.values_list("category").annotate(total=Sum("amount")).values_list("category", "total"))
    return [
        CategoryConsumption(
            category=value, label=str(label), planned=planned.get(value) or Decimal(0),
            spent=spent.get(value) or Decimal(0),
        )
        for value, label in BudgetCategory.choices
    ]
