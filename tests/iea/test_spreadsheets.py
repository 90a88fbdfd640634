"""The workbook kit: every kind of value lands with its type and format, text stays text, titles fit Excel."""

import datetime as dt
import io
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.utils.translation import gettext_lazy, override
from openpyxl import load_workbook

from iea.formats import XLSX_DATE, XLSX_DATETIME, XLSX_INTEGER, XLSX_MONEY, XLSX_NUMBER, XLSX_PERCENT
from iea.spreadsheets import SHEET_TITLE_MAX, Sheet, sheet_title, workbook


def _open(data: bytes):
    return load_workbook(io.BytesIO(data))


def test_each_kind_of_value_keeps_its_type_and_format():
    instant = dt.datetime(2027, 1, 15, 11, 30, tzinfo=dt.UTC)  # 12:30 in Paris (winter)
    summer = dt.datetime(2027, 7, 1, 10, 0, tzinfo=ZoneInfo("UTC"))  # 12:00 in Paris (summer)
    rows = [[
        "=HYPERLINK(\"http://x\")", gettext_lazy("Reference"), 3, Decimal("12000.50"), 0.25, dt.date(2027, 3, 1),
        instant, summer, None, True, "",
    ]]
    data = workbook([Sheet("Test", [f"h{i}" for i in range(11)], rows, formats={3: XLSX_MONEY, 4: XLSX_PERCENT})])
    sheet = _open(data)["Test"]
    cells = list(sheet.iter_rows(min_row=2, max_row=2))[0]
    assert cells[0].data_type == "s" and cells[0].value.startswith("=HYPERLINK")
    assert cells[1].value == "Reference"
    assert cells[2].value == 3 and cells[2].number_format == XLSX_INTEGER
    assert cells[3].value == 12000.5 and cells[3].number_format == XLSX_MONEY
    assert cells[4].value == 0.25 and cells[4].number_format == XLSX_PERCENT
    assert cells[5].value == dt.datetime(2027, 3, 1) and cells[5].number_format == XLSX_DATE
    assert cells[6].value == dt.datetime(2027, 1, 15, 12, 30) and cells[6].number_format == XLSX_DATETIME
    assert cells[7].value == dt.datetime(2027, 7, 1, 12, 0)
    assert cells[8].value is None
    assert cells[9].value is True
    assert cells[10].value in (None, "")


def test_a_decimal_without_a_format_gets_two_places():
    sheet = _open(workbook([Sheet("S", ["a"], [[Decimal("1.5")]])]))["S"]
    assert sheet["A2"].number_format == XLSX_NUMBER


def test_headers_are_bold_frozen_and_filtered_and_titles_translated():
    with override("fr"):
        data = workbook([Sheet(gettext_lazy("Reference"), [gettext_lazy("Title"), "b"], [["x", 1], ["y", 2]])])
    book = _open(data)
    sheet = book.worksheets[0]
    assert sheet.title == "Référence"
    assert sheet["A1"].value == "Titre" and sheet["A1"].font.bold
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == "A1:B3"
    assert sheet.max_row == 3


def test_an_empty_sheet_still_has_its_headers():
    sheet = _open(workbook([Sheet("Empty", ["a", "b"], [])]))["Empty"]
    assert [cell.value for cell in sheet[1]] == ["a", "b"]
    assert sheet.max_row == 1


def test_sheet_titles_fit_excel():
    assert sheet_title("Ré: [a]/b?c*d\\e" + "x" * 40) == ("Ré   a  b c d e" + "x" * 40)[:SHEET_TITLE_MAX]
    assert len(sheet_title("y" * 100)) == SHEET_TITLE_MAX
    assert sheet_title("  ") == "Sheet"
    data = workbook([Sheet("z" * 50, ["a"], []), Sheet("Long: " + "w" * 50, ["a"], [])])
    assert [len(name) for name in _open(data).sheetnames] == [31, 31]


def test_long_text_stays_whole():
    text = "é" * 5000
    sheet = _open(workbook([Sheet("S", ["a"], [[text]])]))["S"]
    assert sheet["A2"].value == text


def test_text_that_excel_would_read_as_a_formula_or_an_error_stays_text_and_other_text_is_written_as_is():
    """Plain text goes to openpyxl as it is (the fast path of ``workbook``); what it would take for a formula or an
    error value goes through a text cell."""
    values = ["=1+1", "#N/A", "#DIV/0!", "plain", "", gettext_lazy("Reference"), "-1", "+33 1 23"]
    sheet = _open(workbook([Sheet("S", [f"h{i}" for i in range(len(values))], [values])]))["S"]
    cells = list(sheet.iter_rows(min_row=2, max_row=2))[0]
    assert [(cell.value, cell.data_type) for cell in cells] == [
        ("=1+1", "s"), ("#N/A", "s"), ("#DIV/0!", "s"), ("plain", "s"), (None, "inlineStr"), ("Reference", "s"), ("-1", "s"),
        ("+33 1 23", "s")]
