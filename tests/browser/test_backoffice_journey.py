"""Issue #19 in a real browser: staff sign in and land on the back office's home, the dashboard of the call
they work on; a figure of the pipeline opens the list with as many rows; the header's bar switches the
language; the sections lead to the lists. French and English, desktop and phone."""

from pathlib import Path

import pytest
from playwright.sync_api import expect

from calls.models import CallState
from proposals.models import Proposal
from tests.factories import CallFactory, InstituteFactory, ProposalFactory, StaffFactory

from .helpers import serious_accessibility_violations, sign_in

SCREENS = Path(__file__).resolve().parents[2] / "var" / "screens"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TEXT = {
    "fr": {"title": "Tableau de bord — IEA 2031", "caption": "Propositions par institut évaluateur et par état",
           "in_review": "En évaluation", "results": "3 propositions", "switch": "English",
           "switched": "Dashboard of IEA 2031", "section": "Examen de recevabilité"},
    "en": {"title": "Dashboard of IEA 2031", "caption": "Proposals by evaluating institute and state",
           "in_review": "In review", "results": "3 proposals", "switch": "Français",
           "switched": "Tableau de bord — IEA 2031", "section": "Screening"},
}


@pytest.mark.parametrize(("language", "viewport"), [
    ("fr", {"width": 1366, "height": 900}), ("en", {"width": 390, "height": 844}),
])
def test_staff_land_on_the_dashboard_follow_a_figure_and_switch_language(live_server, browser, language, viewport):
    text = TEXT[language]
    staff = StaffFactory()
    call = CallFactory(year=2031, state=CallState.IN_REVIEW)
    CallFactory(year=2030, state=CallState.DECIDED)
    insu = InstituteFactory(code="INSU")
    for state in ("in_review", "in_review", "in_review", "ineligible"):
        proposal = ProposalFactory(call=call, complete=True, evaluating_institute=insu)
        Proposal.objects.filter(pk=proposal.pk).update(state=state)
    context = browser.new_context(locale=f"{language}-FR" if language == "fr" else "en-GB",
                                  timezone_id="Europe/Paris", viewport=viewport)
    page = context.new_page()
    base = live_server.url
    sign_in(page, base, staff.email, code=True)
    page.goto(f"{base}/admin/")
    expect(page.get_by_role("heading", name=text["title"])).to_be_visible()
    table = page.locator("table.pipeline")
    expect(table.locator("caption")).to_have_text(text["caption"])
    assert serious_accessibility_violations(page) == []
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    SCREENS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENS / f"backoffice-dashboard-{language}-{viewport['width']}.png"), full_page=True)

    # The INSU row's "in review" figure: 3, and the list it opens has 3 rows.
    headers = [th.inner_text().strip().casefold() for th in table.locator("thead th").all()]  # in capitals
    column = headers.index(text["in_review"].casefold())
    cell = table.locator("tbody tr", has_text="INSU").locator("th, td").nth(column)
    expect(cell).to_have_text("3")
    cell.get_by_role("link").click()
    expect(page.locator("#result_list tbody tr")).to_have_count(3)
    expect(page.locator("#changelist-form .paginator, .paginator")).to_contain_text(text["results"])

    # Back home through the bar, then the other language.
    page.locator("#nav-global").get_by_role("link").first.click()
    page.locator("#nav-global").get_by_role("button", name=text["switch"]).click()
    expect(page.get_by_role("heading", name=text["switched"])).to_be_visible()
    context.close()
