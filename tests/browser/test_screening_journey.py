"""Issue #15 in a real browser: staff screen a closed call — one proposal confirmed eligible, one marked
ineligible with a reason — and the counts and the history still say so once the eligible proposal has moved
on to review ("eligible: 0" was shown for IEA 2026). French and English, desktop and phone."""

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from proposals.models import Proposal, ProposalState
from tests.factories import StaffFactory
from tests.reviews.staff_factories import closed_call, submitted_proposal

from .helpers import serious_accessibility_violations, sign_in

SCREENS = Path(__file__).resolve().parents[2] / "var" / "screens"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TEXT = {
    "en": {"confirm": "Confirm eligible", "ineligible": "Mark ineligible", "reason": "Reason (sent to the PI)",
           "counts": "To screen: 0 · eligible: 1 · ineligible: 1", "eligible": "Eligible", "not": "Ineligible"},
    "fr": {"confirm": "Confirmer la recevabilité", "ineligible": "Déclarer irrecevable",
           "reason": "Motif (transmis au porteur ou à la porteuse de projet)",
           "counts": "À examiner : 0 · recevables : 1 · irrecevables : 1", "eligible": "Recevable",
           "not": "Irrecevable"},
}


@pytest.mark.parametrize(("language", "viewport"), [
    ("fr", {"width": 1366, "height": 900}), ("en", {"width": 390, "height": 844}),
])
def test_staff_screen_a_call_and_the_history_keeps_who_decided_what(live_server, browser, language, viewport):
    text = TEXT[language]
    staff = StaffFactory(email="ines.controle@example.org", full_name="Inès Contrôle")
    call = closed_call()
    good = submitted_proposal(call, acronym="GOOD", title="A complete proposal")
    bad = submitted_proposal(call, acronym="BAD", title="An unsigned letter")
    context = browser.new_context(locale=f"{language}-FR" if language == "fr" else "en-GB",
                                  timezone_id="Europe/Paris", viewport=viewport)
    page = context.new_page()
    base = live_server.url
    sign_in(page, base, staff.email, code=True)
    page.goto(f"{base}/admin/reviews/decision/call/{call.pk}/screening/")

    page.locator(f"#p{good.pk}").get_by_role("button", name=text["confirm"]).click()
    expect(page.locator(f"#p{good.pk}")).to_have_count(0)
    row = page.locator(f"#p{bad.pk}")
    row.get_by_label(text["reason"]).fill("La lettre de soutien n’est pas signée.")
    row.get_by_role("button", name=text["ineligible"]).click()
    expect(page.locator(f"#p{bad.pk}")).to_have_count(0)
    assert Proposal.objects.get(pk=bad.pk).state == ProposalState.INELIGIBLE

    # The eligible proposal moves on to review: the counts and the history still say it was screened eligible.
    Proposal.objects.filter(pk=good.pk).update(state=ProposalState.IN_REVIEW)
    page.reload()
    expect(page.locator("#content-main")).to_contain_text(text["counts"])
    history = page.locator("#screening-history tbody tr")
    expect(history).to_have_count(2)
    expect(history.filter(has_text=good.reference)).to_contain_text(re.compile(
        rf"{text['eligible']}\s+Inès Contrôle"))
    expect(history.filter(has_text=bad.reference)).to_contain_text(text["not"])
    expect(history.filter(has_text=bad.reference)).to_contain_text("La lettre de soutien n’est pas signée.")
    assert serious_accessibility_violations(page) == []
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    SCREENS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENS / f"admin-screening-{language}-{viewport['width']}.png"), full_page=True)
    context.close()
