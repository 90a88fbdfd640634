"""One cell writer for the Excel exports: real numbers and dates with a number format, text kept as text.

A spreadsheet is read by people who sort and add up, so amounts go in as numbers (formatted with
``iea.formats.XLSX_MONEY``), dates as dates; translated labels arrive as lazy strings, which openpyxl
refuses ("Cannot convert … to Excel"), so they are turned into ``str`` here.
"""

import datetime as dt
from decimal import Decimal

from django.utils.functional import Promise
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from .formats import XLSX_DATE, XLSX_INTEGER, XLSX_NUMBER

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def xlsx_cell(sheet, value, *, bold: bool = False, number_format: str | None = None) -> WriteOnlyCell:
    """The cell for ``value``: ``number_format`` for a number (two places by default, none for an
    integer), ``XLSX_DATE`` for a date; a string always stays text."""
    if isinstance(value, Promise):
        value = str(value)
    cell = WriteOnlyCell(sheet, value=value)
    if isinstance(value, str):
        # Text typed by PIs must stay text: "=HYPERLINK(...)" in a title is not a formula.
        cell.data_type = "s"
    elif isinstance(value, bool):
        pass
    elif isinstance(value, int):
        cell.number_format = number_format or XLSX_INTEGER
    elif isinstance(value, Decimal | float):
        cell.number_format = number_format or XLSX_NUMBER
    elif isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        cell.number_format = XLSX_DATE
    if bold:
        cell.font = Font(bold=True)
    return cell
