"""The proposals of the admin's list as an Excel workbook: a *Proposals* sheet (one row per proposal: who,
where, the partner, the team, the budget per year and category, the letter) and a *Team* sheet (one row per
team member).

Two sheets from one query and three prefetches, whatever the number of proposals; text typed by PIs stays
text (``iea.spreadsheets.xlsx_cell``).
"""

from decimal import Decimal

from django.db.models import Count, Exists, IntegerField, OuterRef, Prefetch, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from iea.formats import XLSX_MONEY, XLSX_NUMBER
from iea.spreadsheets import Sheet

from .domain import letter_from_former_partner
from .models import BudgetCategory, Proposal, ProposalVersion, SupportLetter, TeamSide

__all__ = ["is_resubmission", "proposal_sheets"]

# Reviews' decision, read through its reverse relation by name (proposals sits below reviews).
_SELECTED = "selected"


def is_resubmission():
    """Whether the PI submitted a proposal to an earlier call that was not selected (there is no "resubmission
    of" field: this is the definition the statistics use too)."""
    earlier = Proposal.objects.filter(
        pi=OuterRef("pi"), call__year__lt=OuterRef("call__year"), submitted_at__isnull=False,
    ).exclude(decision__outcome=_SELECTED)
    return Exists(earlier)


def _version_count():
    versions = (ProposalVersion.objects.filter(proposal=OuterRef("pk")).order_by().values("proposal")
                .annotate(n=Count("pk")).values("n")[:1])
    return Coalesce(Subquery(versions, output_field=IntegerField()), Value(0))


def export_queryset(queryset: QuerySet) -> QuerySet:
    """``queryset`` (the list's rows, in the list's order) with what the rows read."""
    return (
        queryset.select_related("call", "pi", "unit__delegation", "unit__main_institute", "evaluating_institute")
        .prefetch_related(
            "team", "budget_lines",
            Prefetch("letters", queryset=SupportLetter.objects.select_related("uploaded_via")
                     .order_by("-uploaded_at", "-id")),
        )
        .annotate(version_count=_version_count(), resubmission=is_resubmission())
    )


def _yes(value: bool) -> str:
    return _("yes") if value else _("no")


def letter_state(proposal: Proposal, letter: SupportLetter | None) -> str:
    """Missing, from the PI, from the partner, or from someone who is no longer the partner (it stays attached:
    ``proposals.domain.letter_from_former_partner``)."""
    if letter is None:
        return _("Missing")
    if letter_from_former_partner(proposal, letter):
        return _("From the former partner")
    return _("From the partner") if letter.uploaded_by_partner else _("From the PI")


def _budget_headers(years: int) -> list[str]:
    return [
        *[_("Year %(year)s: %(category)s (€)") % {"year": year, "category": label}
          for year in range(1, years + 1) for label in BudgetCategory.labels],
        _("Budget in total (€)"),
    ]


def _proposal_row(proposal: Proposal, years: int) -> list:
    unit, institute, pi = proposal.unit, proposal.institute, proposal.pi
    team = list(proposal.team.all())
    letters = list(proposal.letters.all())
    letter = letters[0] if letters else None
    budget = {(line.year, line.category): line.amount for line in proposal.budget_lines.all()}
    return [
        proposal.reference, proposal.acronym, proposal.title, pi.get_full_name(), pi.email,
        unit.code if unit else "", unit.delegation.name if unit else "", institute.code if institute else "",
        proposal.get_state_display(), proposal.submitted_at, proposal.version_count,
        proposal.partner_name, proposal.partner_institution,
        proposal.partner_country.name if proposal.partner_country else "", proposal.partner_country.code or "",
        sum(1 for member in team if member.side == TeamSide.CNRS),
        sum(1 for member in team if member.side == TeamSide.PARTNER),
        sum(1 for member in team if member.early_career),
        *[budget.get((year, category)) for year in range(1, years + 1) for category in BudgetCategory.values],
        sum(budget.values(), Decimal(0)),
        letter_state(proposal, letter),
        _yes(letter.cofunding) if letter else "",
        letter.cofunding_amount if letter else None,
        letter.cofunding_currency if letter else "",
        _yes(proposal.resubmission),
    ]


def proposal_sheets(queryset: QuerySet) -> list[Sheet]:
    """The *Proposals* and *Team* sheets of the proposals of ``queryset`` (already what the user may see)."""
    proposals = list(export_queryset(queryset))
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
        [proposal.reference, member.get_side_display(), member.name, member.email, member.position,
         member.institution, _yes(member.early_career)]
        for proposal in proposals for member in proposal.team.all()
    )
    return [
        Sheet(_("Proposals"), headers, (_proposal_row(proposal, years) for proposal in proposals), money),
        Sheet(_("Team"), team_headers, team_rows),
    ]
