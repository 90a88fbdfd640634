"""The review's Excel workbooks: the panel table (the officer's page), the screening of a call and the reviews
(the directorate's admin)."""

from .panel_table import XLSX_CONTENT_TYPE, panel_table_headers, panel_table_values, panel_table_xlsx
from .reviews import review_sheets
from .screening import screening_sheets

__all__ = ["XLSX_CONTENT_TYPE", "panel_table_headers", "panel_table_values", "panel_table_xlsx", "review_sheets",
           "screening_sheets"]
