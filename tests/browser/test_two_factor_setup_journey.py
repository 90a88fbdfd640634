"""A new staff member without two-factor authentication, in a real browser: every page leads to its set-up,
and once the authenticator is active the page last asked for is one click away (``iea.mfa``)."""

import re

import pytest
from playwright.sync_api import expect

from iea.mfa import current_totp_code
from tests.browser.helpers import serious_accessibility_violations, sign_in
from tests.factories import PASSWORD, StaffFactory
from tests.reviews.factories import eligible_proposal

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


WORDS = {
    "en": ("Set up two-factor authentication first", "Continue to the page you asked for"),
    "fr": ("Activez d'abord l'authentification à deux facteurs", "Aller à la page demandée"),
}


@pytest.mark.parametrize(("language", "viewport"), [("en", {"width": 1366, "height": 900}),
                                                    ("fr", {"width": 390, "height": 844})])
def test_staff_set_up_two_factor_before_reading_a_proposal(live_server, browser, settings, language, viewport):
    settings.LANGUAGE_CODE = language
    page = browser.new_context(locale=language, timezone_id="Europe/Paris", viewport=viewport).new_page()
    page.set_default_timeout(15_000)
    warning, way_back = WORDS[language]
    staff = StaffFactory(email="new.staff@cnrs.example.fr", mfa=False)
    proposal = eligible_proposal()
    base = live_server.url
    sign_in(page, base, staff.email)

    # The proposal, the admin: each leads to the set-up, where allauth first asks for the password again.
    for path in ("/admin/", f"/proposals/{proposal.pk}/"):
        page.goto(f"{base}{path}")
        page.wait_for_url(re.compile(r"/accounts/reauthenticate/\?next=%2Faccounts%2F2fa%2Ftotp%2Factivate%2F"))
        expect(page.get_by_text(warning)).to_be_visible()
    assert proposal.title not in page.content()

    page.fill("input[name=password]", PASSWORD)
    page.locator("form button[type=submit]").last.click()
    page.wait_for_url(re.compile(r"/accounts/2fa/totp/activate/"))
    assert serious_accessibility_violations(page) == []
    secret = page.input_value("#authenticator_secret")
    page.fill("input[name=code]", current_totp_code(secret))
    page.locator("input[name=code]").press("Enter")
    page.wait_for_url(re.compile(r"/accounts/2fa/recovery-codes/"))

    # The recovery codes, then the way back to the page last asked for (allauth's form drops ?next=).
    assert serious_accessibility_violations(page) == []
    page.get_by_role("link", name=way_back).click()
    expect(page.locator("h1")).to_contain_text(proposal.acronym)
    assert page.url == f"{base}/proposals/{proposal.pk}/"
