"""The back office's statistics page in a real browser: staff open it from the bar, read the charts beside their
tables, filter by a call, follow a count to the list of as many proposals and download the workbook; no
serious accessibility violation, no CSP refusal, nothing wider than a phone. French desktop, English phone."""

from pathlib import Path

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect

from funding.models import AwardState
from proposals.models import ProposalState
from reviews.models import DecisionOutcome
from tests.backoffice.test_statistics import World

from .helpers import serious_accessibility_violations, sign_in

SCREENS = Path(__file__).resolve().parents[2] / "var" / "screens"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TEXT = {
    "fr": {"bar": "Statistiques", "caption": "Propositions par appel", "show": "Afficher", "results": "2 propositions",
           "download": "Télécharger les tableaux (Excel)", "sheet": "Propositions par appel"},
    "en": {"bar": "Statistics", "caption": "Proposals by call", "show": "Show", "results": "2 proposals",
           "download": "Download the tables (Excel)", "sheet": "Proposals by call"},
}


@pytest.mark.parametrize(("language", "viewport"), [
    ("fr", {"width": 1366, "height": 900}), ("en", {"width": 390, "height": 844}),
])
def test_staff_read_filter_follow_and_download_the_statistics(live_server, browser, language, viewport, tmp_path):
    text = TEXT[language]
    world = World()
    world.proposal(2030, ProposalState.FUNDED, outcome=DecisionOutcome.SELECTED, award=AwardState.ACTIVE,
                   country="DE", early=(True, False))
    world.proposal(2030, ProposalState.INELIGIBLE, unit=world.unit_inee,
                   country="SG")
    world.proposal(2029, ProposalState.REJECTED, outcome=DecisionOutcome.REJECTED, country="JP")
    context = browser.new_context(locale=f"{language}-FR" if language == "fr" else "en-GB",
                                  timezone_id="Europe/Paris", viewport=viewport, accept_downloads=True)
    page = context.new_page()
    refusals = []
    page.on("console", lambda msg: refusals.append(msg.text) if "Content Security Policy" in msg.text else None)
    base = live_server.url
    sign_in(page, base, world.staff.email, code=True)
    page.goto(f"{base}/admin/")
    page.locator("#nav-global").get_by_role("link", name=text["bar"]).click()
    expect(page.locator("#years-caption")).to_have_text(text["caption"])
    expect(page.locator("svg[role=img]")).to_have_count(6)
    assert serious_accessibility_violations(page) == []
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    SCREENS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENS / f"backoffice-statistics-{language}-{viewport['width']}.png"), full_page=True)

    page.select_option("#id_call", "2030")
    page.get_by_role("button", name=text["show"]).click()
    row = page.locator("#table-years tbody tr")
    expect(row).to_have_count(1)
    row.locator("td").first.get_by_role("link").click()
    expect(page.locator("#result_list tbody tr")).to_have_count(2)
    expect(page.locator(".paginator")).to_contain_text(text["results"])
    page.go_back()

    with page.expect_download() as download:
        page.get_by_role("link", name=text["download"]).click()
    path = tmp_path / "statistics.xlsx"
    download.value.save_as(path)
    book = load_workbook(path)
    assert list(book[text["sheet"]].iter_rows(values_only=True))[1][:3] == ("2030", 2, 1)
    assert refusals == []
    context.close()
