"""The proposals of the admin's list as an Excel workbook: a *Proposals* sheet (one row per proposal: who,
where, the partner, the team, the budget per year and category, the letter) and a *Team* sheet (one row per
team member).

Two sheets from four queries (the proposals, their letters, team members and budget lines), whatever the number
of proposals; text typed by PIs stays text (``iea.spreadsheets.xlsx_cell``).
"""

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, IntegerField, OuterRef, Prefetch, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from iea.formats import XLSX_MONEY, XLSX_NUMBER
from iea.spreadsheets import Sheet

from .domain import letter_from_former_partner
from .models import (
    BudgetCategory,
    BudgetLine,
    Proposal,
    ProposalState,
    ProposalVersion,
    SupportLetter,
    TeamMember,
    TeamSide,
    is_resubmission,
)

__all__ = ["proposal_sheets"]

def _version_count():
    versions = (ProposalVersion.objects.filter(proposal=OuterRef("pk")).order_by().values("proposal")
                .annotate(n=Count("pk")).values("n")[:1])
    return Coalesce(Subquery(versions, output_field=IntegerField()), Value(0))


def export_queryset(queryset: QuerySet) -> QuerySet:
    """``queryset`` (the list's rows, in the list's order) with what the rows read (the team and the budget lines
    are read apart, as plain tuples: a call's 40,000 budget lines as model instances cost seconds)."""
    return (
        queryset.select_related("call", "pi", "unit__delegation", "unit__main_institute", "evaluating_institute")
        .prefetch_related(Prefetch("letters", queryset=SupportLetter.objects.select_related("uploaded_via")
                                   .order_by("-uploaded_at", "-id")))
        .annotate(version_count=_version_count(), resubmission=is_resubmission())
    )


class _Labels:
    """Each translated label looked up once per export, not once per cell."""

    def __init__(self):
        self.yes, self.no = _("yes"), _("no")
        self.states = {value: str(label) for value, label in ProposalState.choices}
        self.sides = {value: str(label) for value, label in TeamSide.choices}
        self.letter = {"missing": _("Missing"), "former": _("From the former partner"),
                       "partner": _("From the partner"), "pi": _("From the PI")}
        self.countries = {}

    def yes_no(self, value: bool) -> str:
        return self.yes if value else self.no

    def country(self, country) -> str:
        if country.code not in self.countries:
            self.countries[country.code] = str(country.name)
        return self.countries[country.code]


def letter_state(proposal: Proposal, letter: SupportLetter | None, labels: _Labels | None = None) -> str:
    """Missing, from the PI, from the partner, or from someone who is no longer the partner (it stays attached:
    ``proposals.domain.letter_from_former_partner``)."""
    words = (labels or _Labels()).letter
    if letter is None:
        return words["missing"]
    if letter_from_former_partner(proposal, letter):
        return words["former"]
    return words["partner"] if letter.uploaded_by_partner else words["pi"]


def _budget_headers(years: int) -> list[str]:
    return [
        *[_("Year %(year)s: %(category)s (€)") % {"year": year, "category": label}
          for year in range(1, years + 1) for label in BudgetCategory.labels],
        _("Budget in total (€)"),
    ]


@dataclass
class _Member:
    side: str
    name: str
    email: str
    position: str
    institution: str
    early_career: bool


def _teams(ids: list[int]) -> dict[int, list[_Member]]:
    teams = defaultdict(list)
    for proposal_id, *member in (TeamMember.objects.filter(proposal_id__in=ids).order_by("proposal_id", "side", "id")
                                 .values_list("proposal_id", "side", "name", "email", "position", "institution",
                                              "early_career")):
        teams[proposal_id].append(_Member(*member))
    return teams


def _budgets(ids: list[int]) -> dict[int, dict[tuple[int, str], Decimal]]:
    budgets = defaultdict(dict)
    for proposal_id, year, category, amount in (BudgetLine.objects.filter(proposal_id__in=ids).order_by()
                                                .values_list("proposal_id", "year", "category", "amount")):
        budgets[proposal_id][(year, category)] = amount
    return budgets


def _proposal_row(proposal: Proposal, years: int, team: list[_Member], budget: dict, labels: _Labels) -> list:
    unit, institute, pi = proposal.unit, proposal.institute, proposal.pi
    letters = list(proposal.letters.all())
    letter = letters[0] if letters else None
    country = proposal.partner_country
    return [
        proposal.reference, proposal.acronym, proposal.title, pi.get_full_name(), pi.email,
        unit.code if unit else "", unit.delegation.name if unit else "", institute.code if institute else "",
        labels.states.get(proposal.state, proposal.state), proposal.submitted_at, proposal.version_count,
        proposal.partner_name, proposal.partner_institution,
        labels.country(country) if country else "", country.code or "",
        sum(1 for member in team if member.side == TeamSide.CNRS),
        sum(1 for member in team if member.side == TeamSide.PARTNER),
        sum(1 for member in team if member.early_career),
        *[budget.get((year, category)) for year in range(1, years + 1) for category in BudgetCategory.values],
        sum(budget.values(), Decimal(0)),
        letter_state(proposal, letter, labels),
        labels.yes_no(letter.cofunding) if letter else "",
        letter.cofunding_amount if letter else None,
        letter.cofunding_currency if letter else "",
        labels.yes_no(proposal.resubmission),
    ]


def proposal_sheets(queryset: QuerySet) -> list[Sheet]:
    """The *Proposals* and *Team* sheets of the proposals of ``queryset`` (already what the user may see)."""
    proposals = list(export_queryset(queryset))
    ids = [proposal.pk for proposal in proposals]
    teams, budgets, labels = _teams(ids), _budgets(ids), _Labels()
    years = max((proposal.call.budget_years for proposal in proposals), default=2)
    headers = [
        _("Reference"), _("Acronym"), _("Title"), _("PI"), _("PI e-mail"), _("Unit"), _("Delegation"),
        _("Evaluating institute"), _("State"), _("Last submitted at"), _("Versions"),
        _("Partner"), _("Partner's institution"), _("Partner's country"), _("Country code"),
        _("CNRS team"), _("Partner team"), _("Early-career members"),
        *_budget_headers(years),
        _("Support letter"), _("Co-funding"), _("Co-funding amount"), _("Currency"), _("Resubmission"),
    ]
    first_budget = headers.index(_("Early-career members")) + 1
    money = dict.fromkeys(range(first_budget, first_budget + years * len(BudgetCategory) + 1), XLSX_MONEY)
    money[headers.index(_("Co-funding amount"))] = XLSX_NUMBER  # in the partner's currency
    team_headers = [_("Reference"), _("Side"), _("Name"), _("E-mail"), _("Position"), _("Institution"),
                    _("Early career")]
    team_rows = (
        [proposal.reference, labels.sides.get(member.side, member.side), member.name, member.email, member.position,
         member.institution, labels.yes_no(member.early_career)]
        for proposal in proposals for member in teams[proposal.pk]
    )
    rows = (_proposal_row(proposal, years, teams[proposal.pk], budgets[proposal.pk], labels) for proposal in proposals)
    return [
        Sheet(_("Proposals"), headers, rows, money),
        Sheet(_("Team"), team_headers, team_rows),
    ]
