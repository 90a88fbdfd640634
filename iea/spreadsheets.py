"""One cell writer for the Excel exports: real numbers and dates with a number format, text kept as text.

A spreadsheet is read by people who sort and add up, so amounts go in as numbers (formatted with
``iea.formats.XLSX_MONEY``), dates as dates; translated labels arrive as lazy strings, which openpyxl
refuses ("Cannot convert … to Excel"), so they are turned into ``str`` here.

openpyxl is imported when a workbook is made, not with this module: it imports numpy and Pillow (about
40 MB), which a web worker that never exports should not carry.
"""

import datetime as dt
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils.functional import Promise

from .formats import PARIS, XLSX_DATE, XLSX_DATETIME, XLSX_INTEGER, XLSX_NUMBER

SHEET_TITLE_MAX = 31  # Excel's limit on a sheet's name
_FORBIDDEN_IN_TITLES = str.maketrans(dict.fromkeys("[]:*?/\\", " "))

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
    elif isinstance(value, dt.datetime):
        # Excel has no time zones: the Paris wall clock, as every page shows it.
        if value.tzinfo is not None:
            cell.value = value.astimezone(PARIS).replace(tzinfo=None)
        cell.number_format = number_format or XLSX_DATETIME
    elif isinstance(value, dt.date):
        cell.number_format = number_format or XLSX_DATE
    if bold:
        cell.font = Font(bold=True)
    return cell


# Error values Excel would show as errors rather than text (openpyxl.cell.cell.ERROR_CODES).
_ERROR_CODES = frozenset(("#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A"))


def _is_plain(value) -> bool:
    """A value openpyxl writes as it should be without a cell of ours: nothing, or text that it would not take for
    a formula or an error. Most cells of an export are such text; handing openpyxl a cell costs it a failed
    conversion each time (about three times the work), which a 5,000-row export felt."""
    if value is None:
        return True
    if isinstance(value, Promise):
        value = str(value)
    return type(value) is str and not value.startswith("=") and value not in _ERROR_CODES


def _plain(value):
    return str(value) if isinstance(value, Promise) else value


@dataclass
class Sheet:
    """One sheet of a workbook: its title (translated; cut to Excel's 31 characters), its headers, its rows
    (any iterable: streamed, never held), and the number format of some columns by index (amounts as
    ``XLSX_MONEY``, rates as ``XLSX_PERCENT``; other cells get their type's format from ``xlsx_cell``)."""

    title: str
    headers: Sequence[str]
    rows: Iterable[Sequence]
    formats: Mapping[int, str] = field(default_factory=dict)
    widths: Mapping[int, int] = field(default_factory=dict)


def sheet_title(title) -> str:
    return str(title).translate(_FORBIDDEN_IN_TITLES).strip()[:SHEET_TITLE_MAX] or "Sheet"


def _column_letter(index: int) -> str:
    from openpyxl.utils import get_column_letter  # noqa: PLC0415 -- see the module

    return get_column_letter(index + 1)


def workbook(sheets: Iterable[Sheet]) -> bytes:
    """The workbook of ``sheets``: bold headers, the first row frozen, an autofilter over the data and
    column widths fitted to the headers (at least 10, at most 60 characters) unless given."""
    book = new_workbook()
    for spec in sheets:
        sheet = book.create_sheet(sheet_title(spec.title))
        headers = [str(header) for header in spec.headers]
        for index, header in enumerate(headers):
            width = spec.widths.get(index, min(max(len(header) + 2, 10), 60))
            sheet.column_dimensions[_column_letter(index)].width = width
        sheet.freeze_panes = "A2"
        count = 0
        sheet.append([xlsx_cell(sheet, header, bold=True) for header in headers])
        for row in spec.rows:
            sheet.append([_plain(value) if _is_plain(value) else xlsx_cell(sheet, value, number_format=spec.formats.get(index))
                          for index, value in enumerate(row)])
            count += 1
        if headers:
            sheet.auto_filter.ref = f"A1:{_column_letter(len(headers) - 1)}{count + 1}"
    return workbook_bytes(book)
