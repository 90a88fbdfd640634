"""The award's budget plan and its versions (domain.md, "Amendments": "kept as versions of the award").

- The budget plan (year × category) starts as the proposal's budget lines scaled to the amount awarded,
  exact to the cent: each line gets its share rounded down, and the cents left go one by one to the lines
  with the largest remainders (the largest-remainder method), so the plan adds up to the award exactly and
  keeps the PI's proportions. A proposal without budget lines gets each tranche in its year under "other".
- A version freezes the award as it stands (``award_snapshot``): version 1 when the award is created, one
  more per approved amendment.
"""

import datetime as dt
from decimal import ROUND_DOWN, Decimal

from proposals.models import BudgetCategory

from ..models import Award, AwardBudgetLine, AwardVersion

CENT = Decimal("0.01")


def scale_to(amounts: dict, total: Decimal) -> dict:
    """``amounts`` (key → Decimal ≥ 0) scaled to add up to ``total`` exactly, to the cent."""
    source = sum(amounts.values(), Decimal(0))
    if source <= 0:
        return {}
    shares = {key: amount * total / source for key, amount in amounts.items()}
    scaled = {key: share.quantize(CENT, rounding=ROUND_DOWN) for key, share in shares.items()}
    cents_left = int((total - sum(scaled.values(), Decimal(0))) / CENT)
    by_remainder = sorted(amounts, key=lambda key: (-(shares[key] - scaled[key]), str(key)))
    for key in by_remainder[:cents_left]:
        scaled[key] += CENT
    return scaled


def initial_budget_plan(award: Award) -> list[AwardBudgetLine]:
    """The plan of a new award: the proposal's budget scaled to the award (unsaved lines)."""
    lines = {(line.year, line.category): line.amount for line in award.proposal.budget_lines.all() if line.amount > 0}
    plan = scale_to(lines, award.amount)
    if not plan:
        plan = {(tranche.number, BudgetCategory.OTHER): tranche.amount for tranche in award.tranches.all()}
    return [AwardBudgetLine(award=award, year=year, category=category, amount=amount)
            for (year, category), amount in sorted(plan.items())]


def _cents(amount) -> str:
    return str(Decimal(amount).quantize(CENT))


def award_snapshot(award: Award) -> dict:
    """What a version freezes: the amount, dates, tranches, budget plan and partner institution."""
    country = award.current_partner_country
    return {
        "amount": _cents(award.amount),
        "start_date": award.start_date.isoformat(),
        "end_date": award.end_date.isoformat(),
        "tranches": [{"number": t.number, "planned_date": t.planned_date.isoformat(), "amount": _cents(t.amount),
                      "state": t.state} for t in award.tranches.order_by("number")],
        "budget": [{"year": line.year, "category": line.category, "amount": _cents(line.amount)}
                   for line in award.budget_lines.order_by("year", "category")],
        "partner_institution": award.current_partner_institution,
        "partner_country": country.code if country else "",
    }


def award_version_create(*, award: Award, user, now: dt.datetime, amendment=None) -> AwardVersion:
    """Freeze the award as it stands as its next version. Called inside the transaction of the change that
    makes it, with the award's row locked, so two versions never take the same number."""
    last = award.versions.order_by("-number").values_list("number", flat=True).first() or 0
    return AwardVersion.objects.create(award=award, number=last + 1, created_at=now, created_by=user,
                                       amendment=amendment, data=award_snapshot(award))


def version_facts(version: AwardVersion) -> dict:
    """A version's frozen data read back as the letter shows it (dates, Decimals, the partner's country)."""
    from django_countries.fields import Country  # noqa: PLC0415 -- only the letter reads a country back

    data = version.data
    day = dt.date.fromisoformat
    return {
        "number": version.number,
        "amount": Decimal(data["amount"]),
        "start_date": day(data["start_date"]),
        "end_date": day(data["end_date"]),
        "tranches": [{"number": t["number"], "planned_date": day(t["planned_date"]), "amount": Decimal(t["amount"])}
                     for t in data["tranches"]],
        "budget": [{"year": line["year"], "category": BudgetCategory(line["category"]).label,
                    "amount": Decimal(line["amount"])} for line in data["budget"]],
        "partner_institution": data["partner_institution"],
        "partner_country": Country(data["partner_country"]) if data["partner_country"] else None,
    }
