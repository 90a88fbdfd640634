"""The reports of the admin's list as an Excel workbook: a *Reports* sheet (one row per report: its award, period,
state, when it was due, submitted, co-signed and approved, the spending it declares by category) and a
*Spending* sheet (each spending line the units recorded on those awards).

One query and a prefetch for the reports, one query for the spending, whatever their number.
"""

from decimal import Decimal

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from iea.formats import XLSX_DATE, XLSX_MONEY, XLSX_NUMBER
from iea.spreadsheets import Sheet
from proposals.models import BudgetCategory

from ..domain.reports import report_due
from ..models import Report, ReportState, SpendingLine

__all__ = ["report_sheets"]


def export_queryset(queryset: QuerySet) -> QuerySet:
    return queryset.select_related(
        "award__proposal__evaluating_institute", "award__proposal__unit__main_institute", "award__unit__delegation",
        "reviewed_by",
    ).prefetch_related("spending")


def report_sheets(queryset: QuerySet) -> list[Sheet]:
    """The *Reports* and *Spending* sheets of the reports of ``queryset`` (already what the user may see)."""
    reports = list(export_queryset(queryset))
    headers = [
        _("Award"), _("Acronym"), _("Unit"), _("Delegation"), _("Institute"), _("Period"), _("State"), _("Due"),
        _("Submitted at"), _("Co-signed at"), _("Co-signed by"), _("Approved at"), _("Reviewed by"),
        *[_("Spent: %(category)s (€)") % {"category": label} for label in BudgetCategory.labels],
        _("Spent in total (€)"), _("Co-funding received"), _("Currency"),
    ]
    first_money = headers.index(_("Reviewed by")) + 1
    formats = dict.fromkeys(range(first_money, first_money + len(BudgetCategory) + 1), XLSX_MONEY)
    formats[headers.index(_("Co-funding received"))] = XLSX_NUMBER  # in the partner's currency
    formats[headers.index(_("Due"))] = XLSX_DATE

    def row(report: Report) -> list:
        award, proposal = report.award, report.award.proposal
        institute = proposal.institute
        spent = {line.category: line.amount for line in report.spending.all()}
        return [
            proposal.reference, proposal.acronym, award.unit.code, award.unit.delegation.name,
            institute.code if institute else "", report.get_period_display(), report.get_state_display(),
            report_due(award, report.period), report.submitted_at, report.cosigned_at, report.cosigned_by,
            report.reviewed_at if report.state == ReportState.APPROVED else None,
            report.reviewed_by.get_full_name() if report.reviewed_by else "",
            *[spent.get(category, Decimal(0)) for category in BudgetCategory.values], sum(spent.values(), Decimal(0)),
            report.cofunding_received, report.cofunding_currency,
        ]

    lines = (SpendingLine.objects.filter(award__in=queryset.order_by().values("award_id"))
             .select_related("award__proposal", "award__unit", "recorded_by")
             .order_by("award__proposal__reference", "date", "pk"))
    line_headers = [_("Award"), _("Unit"), _("Date"), _("Category"), _("Amount (€)"), _("Description"),
                    _("Recorded by"), _("Recorded at")]
    line_rows = (
        [line.award.proposal.reference, line.award.unit.code, line.date, line.get_category_display(), line.amount,
         line.description, line.recorded_by.get_full_name(), line.recorded_at]
        for line in lines
    )
    return [
        Sheet(_("Reports"), headers, (row(report) for report in reports), formats),
        Sheet(_("Spending"), line_headers, line_rows, {4: XLSX_MONEY}),
    ]
