"""The awards as an Excel workbook for the delegations: one row per award, with its tranches, what the
unit received and spent (by category), and where its reports stand.

Built from one annotated query and two prefetches, whatever the number of awards; text typed by PIs
stays text in the workbook (no formula is ever written).
"""

from decimal import Decimal

from django.db.models import DecimalField, OuterRef, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from iea.formats import XLSX_MONEY
from iea.spreadsheets import XLSX_CONTENT_TYPE, Sheet, workbook
from proposals.models import BudgetCategory

from ..models import Award, ReportPeriod, SpendingLine, Tranche, TrancheState

__all__ = ["XLSX_CONTENT_TYPE", "award_headers", "award_sheets", "award_values", "awards_xlsx", "export_queryset",
           "with_totals"]
TRANCHE_COLUMNS = 2
MONEY = DecimalField(max_digits=12, decimal_places=2)


def _total(queryset, **filters):
    """The sum of ``amount`` of the rows of ``queryset`` belonging to the award, as a subquery: a join
    over two relations (tranches, spending) would multiply the sums."""
    rows = queryset.filter(award=OuterRef("pk"), **filters).order_by().values("award")
    return Coalesce(Subquery(rows.annotate(total=Sum("amount")).values("total")[:1], output_field=MONEY),
                    Value(Decimal(0)), output_field=MONEY)


def with_totals(queryset: QuerySet) -> QuerySet:
    """Annotate each award with its released, received and spent totals (``spent_<category>`` too)."""
    spending = {f"spent_{category}": _total(SpendingLine.objects, category=category) for category in BudgetCategory.values}
    return queryset.annotate(
        released_total=_total(Tranche.objects, state=TrancheState.RELEASED),
        received_total=_total(Tranche.objects, received_at__isnull=False),
        spent_total=_total(SpendingLine.objects),
        **spending,
    )


def export_queryset(queryset: QuerySet) -> QuerySet:
    return (
        with_totals(queryset)
        .select_related(
            "proposal__pi", "proposal__call", "proposal__evaluating_institute", "proposal__unit__main_institute",
            "unit__delegation",
        )
        .prefetch_related("tranches", "reports")
        .order_by("proposal__call__year", "proposal__reference")
    )


def award_headers() -> list[str]:
    tranches = []
    for number in range(1, TRANCHE_COLUMNS + 1):
        tranches += [_("Tranche %(number)s (€)") % {"number": number}, _("Tranche %(number)s state") % {"number": number},
                     _("Tranche %(number)s planned for") % {"number": number},
                     _("Tranche %(number)s released at") % {"number": number}]
    return [
        _("Reference"), _("Title"), _("PI"), _("PI e-mail"), _("Unit"), _("Delegation"), _("Institute"), _("Call"),
        _("Amount (€)"), _("Start"), _("End"), _("State"), _("To be accepted by"), _("Accepted at"), *tranches,
        _("Released (€)"), _("Received by the unit (€)"),
        *[_("Spent: %(category)s (€)") % {"category": label} for label in BudgetCategory.labels],
        _("Spent in total (€)"), _("Year-1 report"), _("Final report"),
    ]


def _money(value):
    return None if value is None else Decimal(value)


def award_values(award: Award) -> list:
    proposal = award.proposal
    institute = proposal.institute
    tranches = {tranche.number: tranche for tranche in award.tranches.all()}
    reports = {report.period: report for report in award.reports.all()}
    tranche_cells = []
    for number in range(1, TRANCHE_COLUMNS + 1):
        tranche = tranches.get(number)
        tranche_cells += [
            _money(tranche.amount), tranche.get_state_display(), tranche.planned_date,
            tranche.decided_at if tranche.state == TrancheState.RELEASED else None,
        ] if tranche else [None, "", None, None]
    return [
        proposal.reference, proposal.title, proposal.pi.get_full_name(), proposal.pi.email,
        str(award.unit), award.unit.delegation.name, institute.code if institute else "", str(proposal.call),
        _money(award.amount), award.start_date, award.end_date, award.get_state_display(), award.accept_by,
        award.accepted_at, *tranche_cells,
        _money(award.released_total), _money(award.received_total),
        *[_money(getattr(award, f"spent_{category}")) for category in BudgetCategory.values],
        _money(award.spent_total),
        *[reports[period].get_state_display() if period in reports else "" for period in ReportPeriod.values],
    ]


def award_sheets(queryset: QuerySet) -> list[Sheet]:
    """The *Awards* sheet of the awards of ``queryset`` (already filtered to what the user may see)."""
    headers = award_headers()
    money = {_("Amount (€)"), _("Released (€)"), _("Received by the unit (€)"), _("Spent in total (€)"),
             *[_("Tranche %(number)s (€)") % {"number": number} for number in range(1, TRANCHE_COLUMNS + 1)],
             *[_("Spent: %(category)s (€)") % {"category": label} for label in BudgetCategory.labels]}
    formats = {index: XLSX_MONEY for index, header in enumerate(headers) if header in money}
    return [Sheet(_("Awards"), headers, (award_values(award) for award in export_queryset(queryset)), formats)]


def awards_xlsx(queryset: QuerySet) -> bytes:
    """The workbook of the awards of ``queryset`` (already filtered to what the user may see)."""
    return workbook(award_sheets(queryset))
