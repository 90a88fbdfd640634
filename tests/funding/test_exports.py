"""The awards workbook: amounts are numbers formatted in euros, dates are dates, labels are text, in both
languages, whatever the row holds (nothing released, a long title)."""

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.utils import translation
from openpyxl import load_workbook

from funding.domain.awards import tranche_release
from funding.exports import award_headers, awards_xlsx
from funding.models import Award, Tranche
from iea.formats import PARIS, XLSX_DATE, XLSX_DATETIME, XLSX_MONEY

from .admin_factories import add_spending, make_award
from .factories import award_factory

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
    tranche_state = empty[column[headers[15]]]
    assert (tranche_state.value, tranche_state.data_type) == (state, "s")


def test_the_awards_workbook_says_when_the_award_was_to_be_and_was_accepted_and_each_tranches_dates(staff):
    accepted_on = dt.datetime(2031, 12, 15, 9, 30, tzinfo=dt.UTC)
    accepted = award_factory(staff=staff, now=accepted_on)
    first = accepted.tranches.get(number=1)
    tranche_release(tranche_id=first.pk, user=staff, now=accepted_on + dt.timedelta(days=2))
    waiting = award_factory(staff=staff, accepted=False)
    with translation.override("en"):
        content = awards_xlsx(Award.objects.filter(pk__in=[accepted.pk, waiting.pk]))
    sheet = load_workbook(io.BytesIO(content)).active
    header, *rows = list(sheet.iter_rows())
    names = [cell.value for cell in header]
    rows = {row[0].value: dict(zip(names, row, strict=True)) for row in rows}
    row = rows[accepted.proposal.reference]
    accepted.refresh_from_db()
    first.refresh_from_db()
    paris = lambda moment: moment.astimezone(PARIS).replace(tzinfo=None)  # noqa: E731
    assert (row["Accepted at"].value, row["Accepted at"].number_format) == (paris(accepted_on), XLSX_DATETIME)
    assert row["To be accepted by"].value == paris(accepted.accept_by)
    assert (row["Tranche 1 released at"].value, row["Tranche 1 released at"].number_format) == (
        paris(first.decided_at), XLSX_DATETIME)
    second = Tranche.objects.get(award=accepted, number=2)
    assert (row["Tranche 2 planned for"].value.date(), row["Tranche 2 planned for"].number_format) == (
        second.planned_date, XLSX_DATE)
    assert row["Tranche 2 released at"].value is None
    assert (rows[waiting.proposal.reference]["Accepted at"].value, rows[waiting.proposal.reference]["State"].value) == (
        None, "Awaiting the PI's acceptance")
