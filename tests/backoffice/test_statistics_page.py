"""The statistics page of the back office (/admin/statistics/): who reaches it, its filters, its tables with their
charts and links (each count opens a list of as many rows), its workbook, in English and French, and the same
queries at any size."""

import io
import re
import xml.etree.ElementTree as ET
from decimal import Decimal

import pytest
import rules
from django.urls import reverse
from django.utils import translation

from funding.models import AwardState
from iea.formats import XLSX_INTEGER, XLSX_MONEY, XLSX_PERCENT
from proposals.models import ProposalState
from proposals.rules import can_view_proposal
from reviews.models import DecisionOutcome
from tests.backoffice.test_statistics import World
from tests.factories import StaffFactory, UserFactory, activate_totp

pytestmark = pytest.mark.django_db

URL = "/admin/statistics/"
NBSP, NNBSP = "\u00a0", "\u202f"


@pytest.fixture
def world():
    w = World()
    S = DecisionOutcome.SELECTED
    w.proposal(2029, ProposalState.FUNDED, outcome=S, amount=Decimal(15000), award=AwardState.CLOSED, country="DE",
               early=(True, False))
    w.proposal(2029, ProposalState.REJECTED, outcome=DecisionOutcome.REJECTED, unit=w.unit_inee)
    w.proposal(2030, ProposalState.SELECTED, outcome=S, amount=Decimal(1234.5), award=AwardState.CANCELLED,
               unit=w.unit_inee, evaluating=w.inshs)
    w.proposal(2030, ProposalState.FUNDED, outcome=S, award=AwardState.ACTIVE, country="SG", early=(False, True))
    w.proposal(2030, ProposalState.INELIGIBLE, unit=w.unit_inee, country="")
    w.proposal(2030, ProposalState.WITHDRAWN)
    w.proposal(2031, ProposalState.SUBMITTED, unit=w.unit_inee)
    w.proposal(2032, ProposalState.DRAFT, submitted=False)
    return w


@pytest.fixture
def staff(client, settings):
    settings.LANGUAGE_CODE = "en"
    client.force_login(StaffFactory(is_superuser=False))
    return client


def page(client, **params):
    response = client.get(URL, params)
    assert response.status_code == 200
    return response.context, response.content.decode()


def table(context, key):
    return next(t for t in context["tables"] if t.key == key)


def changelist_count(client, url) -> int:
    response = client.get(url)
    assert response.status_code == 200, url
    return response.context["cl"].result_count


# Who reaches it

def test_anonymous_people_and_accounts_outside_the_directorate_are_sent_to_sign_in(client, world):
    response = client.get(URL)
    assert response.status_code == 302 and response["Location"].startswith(reverse("admin:login"))
    officer = UserFactory()
    activate_totp(officer)
    for user in (UserFactory(), officer):
        client.force_login(user)
        response = client.get(URL)
        assert response.status_code == 302 and response["Location"].startswith(reverse("admin:login"))
        assert client.get(URL, {"format": "xlsx"}).status_code == 302


def test_staff_who_may_not_view_proposals_are_refused(client, world):
    client.force_login(StaffFactory(is_superuser=False))
    rules.set_perm("proposals.view_proposal", rules.always_deny)
    try:
        assert client.get(URL).status_code == 403
        assert client.get(URL, {"format": "xlsx"}).status_code == 403
    finally:
        rules.set_perm("proposals.view_proposal", can_view_proposal)


def test_staff_find_the_page_in_the_bar_and_in_the_calls_section(staff, world):
    context, html = page(staff)
    assert html.count(f'href="{URL}"') >= 1
    assert f'<a href="{URL}" aria-current="page">Statistics</a>' in html
    home = staff.get(reverse("admin:index")).content.decode()
    section = re.search(r'id="section-calls".*?</table>', home, re.S)
    assert section and URL in section.group(0)


# What it shows

def test_every_table_has_a_caption_and_its_chart_beside_it(staff, world):
    context, html = page(staff)
    assert [t.key for t in context["tables"]] == ["years", "institutes", "delegations", "countries",
                                                  "early_career", "resubmissions"]
    for t in context["tables"]:
        assert f'<caption id="{t.key}-caption">{t.caption}</caption>' in html
        assert 'role="img"' in t.chart
    assert "<script" not in "".join(t.chart for t in context["tables"])
    for svg in re.findall(r"<svg [^>]*role=\"img\".*?</svg>", html, re.S):
        ET.fromstring(svg)  # noqa: S314 -- our own chart
        assert "style=" not in svg
    # The definitions under the title.
    assert "submitted at least once, even if withdrawn afterwards." in html
    assert "css/charts.css" in html


def test_the_year_table_gives_the_figures_and_a_call_with_nothing_submitted_has_no_rate(staff, world):
    context, _html = page(staff)
    years = table(context, "years")
    texts = [[cell.text for cell in row] for row in years.rows]
    assert texts == [
        ["2029", "2", "2", "1", "1", "50.0%", "50.0%", "€15,000.00"],
        ["2030", "4", "2", "1", "1", "25.0%", "50.0%", "€12,000.00"],
        ["2031", "1", "0", "0", "0", "0.0%", "—", "€0.00"],
        ["2032", "0", "0", "0", "0", "—", "—", "€0.00"],
    ]
    assert [cell.text for cell in years.footer] == ["Total", "7", "4", "2", "2", "28.6%", "50.0%", "€27,000.00"]


def test_each_count_links_to_a_list_of_as_many_proposals(staff, world):
    for params in ({}, {"call": "2030"}, {"institute": world.inee.pk}, {"delegation": world.south.pk}):
        context, _html = page(staff, **params)
        checked = 0
        for t in context["tables"]:
            for row in [*t.rows, t.footer]:
                for cell in row:
                    if cell.url:
                        assert changelist_count(staff, cell.url) == cell.value, (params, t.key, cell)
                        checked += 1
        assert checked >= 6, params


def test_the_filters_narrow_the_tables(staff, world):
    context, html = page(staff, call="2030", institute=world.inee.pk)
    years = table(context, "years")
    assert [row[0].text for row in years.rows] == ["2030"]
    assert [cell.text for cell in years.rows[0][:3]] == ["2030", "1", "0"]  # INEE evaluates only the ineligible one
    assert [row[0].text for row in table(context, "institutes").rows] == ["INEE"]
    assert 'value="2030" selected' in html
    # A wrong value shows every call rather than an error.
    context, _html = page(staff, call="1999", institute="x")
    assert len(table(context, "years").rows) == 4


def test_the_countries_are_named_drawn_and_listed_when_too_small(staff, world):
    context, html = page(staff)
    countries = table(context, "countries")
    assert [row[0].text for row in countries.rows] == ["Brazil", "Germany", "No country", "Singapore"]
    assert "Germany: 1" in countries.chart
    assert "Singapore (1)" in countries.chart  # selected, but too small to draw


def test_the_page_in_french(client, world):
    client.force_login(StaffFactory(is_superuser=False))
    client.post(reverse("set_language"), {"language": "fr"})
    with translation.override("fr"):
        context, html = page(client)
        years = table(context, "years")
        assert [cell.text for cell in years.rows[0]] == [
            "2029", "2", "2", "1", "1", f"50,0{NBSP}%", f"50,0{NBSP}%", f"15{NNBSP}000,00{NBSP}€"]
        assert "Taux de succès" in html and "déposée au moins une fois" in html
        assert "Le tableau à côté du graphique en donne les chiffres." in html


def test_the_page_costs_the_same_queries_for_few_and_many_proposals(staff, world, queries):
    def grow(size):
        for n in range(size):
            world.proposal(2030 + n % 2, ProposalState.ELIGIBLE, country=["FR", "US"][n % 2],
                           unit=[world.unit_insu, world.unit_inee][n % 2], early=(n % 2 == 0, True),
                           outcome=DecisionOutcome.SELECTED, award=AwardState.ACTIVE)

    assert queries.at_sizes(grow, lambda: staff.get(URL), sizes=(1, 5)) == (14, 14)
    filtered = f"{URL}?call=2030&institute={world.inee.pk}&delegation={world.south.pk}"
    assert queries.at_sizes(grow, lambda: staff.get(filtered), sizes=(6, 9)) == (16, 16)
    assert queries.at_sizes(grow, lambda: staff.get(URL, {"format": "xlsx"}), sizes=(10, 13)) == (10, 10)


# The workbook

def test_the_workbook_has_one_sheet_per_table_with_numbers_rates_and_amounts(staff, world):
    from openpyxl import load_workbook

    response = staff.get(URL, {"format": "xlsx", "call": "2030"})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert re.search(r'filename="statistics-2030-\d{4}-\d\d-\d\d\.xlsx"', response["Content-Disposition"])
    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == ["Definitions", "Proposals by call", "By evaluating institute",
                               "By regional delegation", "By partner country", "Teams with early-career researc",
                               "Resubmissions"]
    years = book["Proposals by call"]
    rows = list(years.iter_rows(values_only=True))
    assert rows[0] == ("Call", "Submitted", "Eligible", "Selected", "Funded", "Success rate",
                       "Selected ÷ eligible", "Amount selected")
    assert rows[1] == ("2030", 4, 2, 1, 1, 0.25, 0.5, 12000)
    assert rows[2] == ("Total", 4, 2, 1, 1, 0.25, 0.5, 12000)
    assert years["B2"].number_format == XLSX_INTEGER
    assert years["F2"].number_format == XLSX_PERCENT
    assert years["H2"].number_format == XLSX_MONEY
    assert years["A2"].data_type == "s"
    empty_rate = list(book["By partner country"].iter_rows(values_only=True))
    assert ("No country", 1, 0, 0, 0, 0, None, 0) in empty_rate
    definitions = list(book["Definitions"].iter_rows(values_only=True))
    assert definitions[1] == ("Submitted", "submitted at least once, even if withdrawn afterwards.")


def test_the_workbook_in_french(client, world):
    from openpyxl import load_workbook

    client.force_login(StaffFactory(is_superuser=False))
    client.post(reverse("set_language"), {"language": "fr"})
    book = load_workbook(io.BytesIO(client.get(URL, {"format": "xlsx"}).content))
    assert "Définitions" in book.sheetnames
    assert next(book["Définitions"].iter_rows(values_only=True)) == ("Terme", "Définition")

