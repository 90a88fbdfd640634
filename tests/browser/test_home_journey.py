"""Issue #15 in a real browser: with next year's call already published, a visitor still finds the call that is
open — featured on the home page with its time left and its apply button, and first in the list of calls, before
the upcoming one and the past one. French on a phone, English on a desktop."""

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from calls.models import CallState
from tests.factories import CallFactory

from .helpers import serious_accessibility_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TEXT = {
    "en": {"apply": "Read the call and apply", "all": "All calls", "left": "Time left"},
    "fr": {"apply": "Consulter l'appel et candidater", "all": "Tous les appels", "left": "Temps restant"},
}


@pytest.mark.parametrize(("language", "viewport"), [
    ("fr", {"width": 390, "height": 844}), ("en", {"width": 1366, "height": 900}),
])
def test_the_open_call_is_featured_before_next_years(live_server, browser, language, viewport):
    now = timezone.now()
    CallFactory(year=2026, title_en="IEA 2026", title_fr="IEA 2026", opens_at=now - dt.timedelta(days=400),
                closes_at=now - dt.timedelta(days=300))
    CallFactory(year=2027, title_en="IEA 2027", title_fr="IEA 2027", opens_at=now - dt.timedelta(days=30),
                closes_at=now + dt.timedelta(days=9))
    CallFactory(year=2028, title_en="IEA 2028", title_fr="IEA 2028", state=CallState.PUBLISHED,
                opens_at=now + dt.timedelta(days=200), closes_at=now + dt.timedelta(days=300))
    context = browser.new_context(locale="fr-FR" if language == "fr" else "en-GB", timezone_id="Europe/Paris",
                                  viewport=viewport)
    page = context.new_page()
    page.goto(f"{live_server.url}/")
    featured = page.locator("section[aria-labelledby=current-call]")
    expect(featured.locator("h2")).to_have_text("IEA 2027")
    expect(featured).to_contain_text(TEXT[language]["left"])
    apply = featured.get_by_role("link", name=TEXT[language]["apply"])
    expect(apply).to_be_in_viewport()
    assert serious_accessibility_violations(page) == []

    page.get_by_role("link", name=TEXT[language]["all"]).click()
    expect(page.locator("tbody tr td:first-child")).to_have_text(["IEA 2027", "IEA 2028", "IEA 2026"])
    page.go_back()
    apply.click()
    expect(page).to_have_url(f"{live_server.url}/calls/2027/")
    context.close()
