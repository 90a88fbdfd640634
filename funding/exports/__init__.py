"""Funding's Excel workbooks: the awards with their tranches (the awards list's action), the decisions of a call
(the decisions page) and the reports with the spending (the reports list)."""

from .awards import (
    XLSX_CONTENT_TYPE,
    award_headers,
    award_sheets,
    award_values,
    awards_xlsx,
    export_queryset,
    with_totals,
)
from .decisions import decision_sheets
from .reports import report_sheets

__all__ = ["XLSX_CONTENT_TYPE", "award_headers", "award_sheets", "award_values", "awards_xlsx", "decision_sheets", "export_queryset",
           "report_sheets", "with_totals"]
