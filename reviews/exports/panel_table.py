"""The panel table as an Excel workbook: the same rows and columns as the page, numbers as numbers."""

from decimal import Decimal

from django.utils.translation import gettext as _

from iea.formats import XLSX_MONEY
from iea.spreadsheets import XLSX_CONTENT_TYPE, new_workbook, workbook_bytes, xlsx_cell

from ..domain.panel_table import Row
from ..models import Recommendation

__all__ = ["XLSX_CONTENT_TYPE", "panel_table_headers", "panel_table_values", "panel_table_xlsx"]


def panel_table_headers(criteria) -> list[str]:
    return [
        _("Reference"), _("Acronym"), _("Title"), _("PI"), _("Status"),
        *[f"{criterion.position}. {criterion.label}" for criterion in criteria],
        _("Weighted total"), _("Median"), _("Spread"), _("Disagreement"), _("Calibrated (z)"),
        _("Reviews done"), _("Reviews expected"), _("Priority match"), _("Rank"), _("Recommendation"),
        _("Proposed amount (€)"),
    ]


def _number(value, places: int = 2):
    return None if value is None else round(Decimal(value), places)


def _priority(row: Row) -> str:
    parts = []
    if row.priority.country:
        parts.append(_("country %(code)s") % {"code": row.priority.country})
    parts.extend(row.priority.keywords)
    return ", ".join(parts)


def panel_table_values(row: Row) -> list:
    proposal = row.proposal
    recommendation = row.recommendation
    return [
        proposal.reference, proposal.acronym, proposal.title, proposal.pi.get_full_name(),
        proposal.get_state_display(),
        *[_number(mean) for mean in row.criterion_means],
        _number(row.weighted_total), _number(row.median), _number(row.spread),
        _("yes") if row.disagreement else "", _number(row.calibrated),
        row.reviews_done, row.reviews_expected, _priority(row), row.rank,
        Recommendation(row.recommended).label if row.recommended else "",
        recommendation.proposed_amount if recommendation else None,
    ]


def panel_table_xlsx(*, panel, criteria, rows: list[Row]) -> bytes:
    workbook = new_workbook()
    sheet = workbook.create_sheet(title=panel.institute.code[:31])
    headers = panel_table_headers(criteria)
    sheet.append([xlsx_cell(sheet, header, bold=True) for header in headers])
    for row in rows:
        values = panel_table_values(row)
        # The last column is the proposed amount, in euros.
        sheet.append([xlsx_cell(sheet, value, number_format=XLSX_MONEY if index == len(headers) - 1 else None)
                      for index, value in enumerate(values)])
    return workbook_bytes(workbook)
