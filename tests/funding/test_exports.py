"""The awards workbook: amounts are numbers formatted in euros, dates are dates, labels are text, in both
languages, whatever the row holds (nothing released, a long title)."""

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.utils import translation
from openpyxl import load_workbook

from funding.exports import award_headers, awards_xlsx
from funding.models import Award
from iea.formats import XLSX_DATE, XLSX_MONEY

from .admin_factories import add_spending, make_award

pytestmark = pytest.mark.django_db

LONG_TITLE = ("Tidal flats under pressure " * 20)[:250]  # the longest title a proposal holds


@pytest.mark.parametrize(("language", "state"), [("fr", "Prévue"), ("en", "Planned")])
def test_the_awards_workbook_holds_money_and_dates_as_typed_cells(staff, language, state):
    spent = make_award(amount=Decimal("12345.67"), user=staff)
    add_spending(spent, category="mobility", amount=Decimal("1000.50"))
    quiet = make_award(amount=Decimal(10000), user=staff, title=LONG_TITLE)
    with translation.override(language):
        headers = award_headers()
        content = awards_xlsx(Award.objects.filter(pk__in=[spent.pk, quiet.pk]))
    sheet = load_workbook(io.BytesIO(content)).active
    rows = {row[0].value: row for row in sheet.iter_rows(min_row=2)}
    column = {name: index for index, name in enumerate(headers)}
    amount_name, start_name, spent_name = headers[8], headers[9], headers[-3]
    row = rows[spent.proposal.reference]
    amount, start, total_spent = row[column[amount_name]], row[column[start_name]], row[column[spent_name]]
    assert (amount.value, amount.data_type, amount.number_format) == (12345.67, "n", XLSX_MONEY)
    assert (total_spent.value, total_spent.number_format) == (1000.5, XLSX_MONEY)
    assert (start.value, start.is_date, start.number_format) == (
        dt.datetime.combine(spent.start_date, dt.time()), True, XLSX_DATE)
    empty = rows[quiet.proposal.reference]
    assert (empty[column[spent_name]].value, empty[column[spent_name]].number_format) == (0, XLSX_MONEY)
    assert (empty[1].value, empty[1].data_type) == (LONG_TITLE, "s")
    tranche_state = empty[column[headers[13]]]
    assert (tranche_state.value, tranche_state.data_type) == (state, "s")
