"""The panel table as an Excel workbook: the same rows and columns as the page."""

import io

from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from .domain.panel import Row
from .models import Recommendation

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def panel_table_headers(criteria) -> list[str]:
    return [
        _("Reference"), _("Acronym"), _("Title"), _("PI"), _("Status"),
        *[f"{criterion.position}. {criterion.label}" for criterion in criteria],
        _("Weighted total"), _("Median"), _("Spread"), _("Disagreement"), _("Calibrated (z)"),
        _("Reviews done"), _("Reviews expected"), _("Priority match"), _("Rank"), _("Recommendation"),
        _("Proposed amount (€)"),
    ]


def _number(value, places: int = 2):
    return None if value is None else round(float(value), places)


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
        str(Recommendation(row.recommended).label) if row.recommended else "",  # text, not a lazy string
        _number(recommendation.proposed_amount) if recommendation else None,
    ]


def _cell(sheet, value, *, bold=False):
    cell = WriteOnlyCell(sheet, value=value)
    if isinstance(value, str):
        # Text typed by PIs must stay text: "=HYPERLINK(...)" in a title is not a formula.
        cell.data_type = "s"
    if bold:
        cell.font = Font(bold=True)
    return cell


def panel_table_xlsx(*, panel, criteria, rows: list[Row]) -> bytes:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=panel.institute.code[:31])
    sheet.append([_cell(sheet, header, bold=True) for header in panel_table_headers(criteria)])
    for row in rows:
        sheet.append([_cell(sheet, value) for value in panel_table_values(row)])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
