"""Issue #15 in a real browser: the officer's Excel export of the panel table crashed (500) as soon as one row
had a recommendation — a translated label handed to openpyxl. Here the officer downloads it from the panel page
in French and in English, with every kind of value in it: a recommendation and its amount, a row without any, a
long accented title, a text that looks like a formula."""

from decimal import Decimal

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect

from proposals.models import Proposal
from reviews.models import PanelRecommendation
from tests.reviews.test_panel import NOW, World

from .helpers import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TEXT = {
    "en": {"export": "Export (Excel)", "fund": "Fund", "header": "Recommendation"},
    "fr": {"export": "Exporter (Excel)", "fund": "Financer", "header": "Recommandation"},
}
LONG_TITLE = "Érosion côtière et « trait de côte » : " + "observations croisées, " * 8


@pytest.mark.parametrize(("language", "viewport"), [
    ("fr", {"width": 1366, "height": 900}), ("en", {"width": 390, "height": 844}),
])
def test_the_officer_downloads_the_panel_table_with_a_recommendation(live_server, browser, language, viewport):
    world = World()
    funded, empty, formula = world.proposals(3)
    Proposal.objects.filter(pk=funded.pk).update(title=LONG_TITLE)
    Proposal.objects.filter(pk=formula.pk).update(title="=SUM(A1:A9)")
    a, b = world.reviewer("Alice Ames"), world.reviewer("Bruno Bell")
    world.reviews([(funded, a, [4.5] * 6), (funded, b, [4] * 6), (formula, a, [2] * 6)])
    PanelRecommendation.objects.create(proposal=funded, panel=world.panel, recommendation="fund", rank=1,
                                       proposed_amount=Decimal("12500.50"), consensus="Fort.", updated_at=NOW)
    context = browser.new_context(locale="fr-FR" if language == "fr" else "en-GB", timezone_id="Europe/Paris",
                                  viewport=viewport, accept_downloads=True)
    page = context.new_page()
    sign_in(page, live_server.url, world.officer.email, code=True)
    page.goto(f"{live_server.url}/panels/{world.panel.pk}/?sort=reference")
    with page.expect_download() as download:
        page.get_by_role("link", name=TEXT[language]["export"]).click()
    assert download.value.suggested_filename.endswith(".xlsx")
    with download.value.path().open("rb") as workbook:  # the download has no .xlsx name for openpyxl
        sheet = load_workbook(workbook).active
    rows = list(sheet.iter_rows(values_only=True))
    header = rows[0]
    recommendation, amount = header.index(TEXT[language]["header"]), len(header) - 1
    by_reference = {row[0]: row for row in rows[1:]}
    assert set(by_reference) == {funded.reference, empty.reference, formula.reference}
    assert by_reference[funded.reference][2] == LONG_TITLE
    assert by_reference[funded.reference][recommendation] == TEXT[language]["fund"]
    assert by_reference[funded.reference][amount] == 12500.5
    assert by_reference[empty.reference][recommendation] in ("", None)
    assert by_reference[formula.reference][2] == "=SUM(A1:A9)"
    amount_cell = sheet.cell(row=[r[0] for r in rows].index(funded.reference) + 1, column=amount + 1)
    assert amount_cell.data_type == "n" and "€" in amount_cell.number_format
    expect(page.locator("#panel-table")).to_be_visible()
    context.close()
