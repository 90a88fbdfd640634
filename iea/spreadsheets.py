"""One cell writer for the Excel exports: real numbers and dates with a number format, text kept as text.

A spreadsheet is read by people who sort and add up, so amounts go in as numbers (formatted with
``iea.formats.XLSX_MONEY``), dates as dates; translated labels arrive as lazy strings, which openpyxl
refuses ("Cannot convert … to Excel"), so they are turned into ``str`` here.

openpyxl is imported when a workbook is made, not with this module: it imports numpy and Pillow (about
40 MB), which a web worker that never exports should not carry.
"""

import datetime as dt
import io
from decimal import Decimal

from django.utils.functional import Promise

from .formats import XLSX_DATE, XLSX_INTEGER, XLSX_NUMBER

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def new_workbook():
    """An empty write-only workbook (rows are streamed to it, never held as a grid)."""
    from openpyxl import Workbook  # noqa: PLC0415 -- see the module

    return Workbook(write_only=True)


def workbook_bytes(workbook) -> bytes:
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def xlsx_cell(sheet, value, *, bold: bool = False, number_format: str | None = None):
    """The cell for ``value``: ``number_format`` for a number (two places by default, none for an
    integer), ``XLSX_DATE`` for a date; a string always stays text."""
    from openpyxl.cell import WriteOnlyCell  # noqa: PLC0415 -- loaded by new_workbook already
    from openpyxl.styles import Font  # noqa: PLC0415

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
