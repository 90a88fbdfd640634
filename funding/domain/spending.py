"""What the unit spends on an award, recorded by the unit manager, against the award per category."""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.db.models import Sum
from django.utils.translation import gettext as _

from iea.audit.domain import audit_record
from proposals.models import BudgetCategory

from ..models import Award, AwardState, SpendingLine
from ..rules import is_award_unit_manager
from .awards import FundingError


def spending_record(
    *, award_id: int, user, date: dt.date, category: str, amount: Decimal, description: str, now: dt.datetime,
) -> SpendingLine:
    """The unit manager records an expense. Spending is tracked, not capped: the chart shows overspending."""
    award = Award.objects.select_related("unit", "proposal").get(pk=award_id)
    if not is_award_unit_manager(user, award):
        raise FundingError(_("Only a manager of the award's unit records spending."), code="forbidden")
    if category not in BudgetCategory.values:
        raise FundingError(_("Choose a spending category."), code="category")
    if amount is None or amount <= 0:
        raise FundingError(_("The amount must be more than zero."), code="amount")
    if not (award.start_date <= date <= award.end_date):
        raise FundingError(_("The date must fall within the award, from %(start)s to %(end)s.") % {
            "start": award.start_date.isoformat(), "end": award.end_date.isoformat()}, code="date")
    if not (description or "").strip():
        raise FundingError(_("Describe the expense."), code="description")
    if len(description.strip()) > SpendingLine._meta.get_field("description").max_length:
        raise FundingError(_("Keep the description under 300 characters."), code="description")
    if amount >= Decimal("10000000"):
        raise FundingError(_("This amount is too large for one expense."), code="amount")
    if award.state == AwardState.CLOSED:
        raise FundingError(_("The award is closed: no more spending can be recorded."), code="closed")
    with transaction.atomic():
        line = SpendingLine.objects.create(
            award=award, date=date, category=category, amount=amount, description=description.strip(),
            recorded_at=now, recorded_by=user,
        )
        audit_record(actor=user, target=award, action="spending.record", now=now,
                     data={"line": line.pk, "category": category, "amount": str(amount)})
    return line


@dataclass(frozen=True)
class CategoryConsumption:
    category: str
    label: str
    planned: Decimal
    spent: Decimal


def award_consumption(award: Award) -> list[CategoryConsumption]:
    """Per category: the budget planned in the proposal (scaled to the award) and what the unit spent."""
    spent = dict(award.spending_lines.values_list("category").annotate(total=Sum("amount")).values_list("category", "total"))
    planned_raw = dict(
        award.proposal.budget_lines.values_list("category").annotate(total=Sum("amount")).values_list("category", "total")
    )
    requested = sum(planned_raw.values(), Decimal(0))
    scale = (award.amount / requested) if requested else Decimal(0)
    return [
        CategoryConsumption(
            category=value, label=str(label),
            planned=((planned_raw.get(value) or Decimal(0)) * scale).quantize(Decimal("0.01")),
            spent=spent.get(value) or Decimal(0),
        )
        for value, label in BudgetCategory.choices
    ]
