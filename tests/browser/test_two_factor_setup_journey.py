"""A new staff member without two-factor authentication, in a real browser: every page leads to its set-up,
and once the authenticator is active the proposal opens (``iea.mfa``)."""

import re

import pytest
from playwright.sync_api import expect

from iea.mfa import current_totp_code
from tests.browser.helpers import serious_accessibility_violations, sign_in
from tests.factories import PASSWORD, StaffFactory
from tests.reviews.factories import eligible_proposal

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_staff_set_up_two_factor_before_reading_a_proposal(live_server, page, settings):
    settings.LANGUAGE_CODE = "en"
    staff = StaffFactory(email="new.staff@cnrs.example.fr", mfa=False)
    proposal = eligible_proposal()
    base = live_server.url
    sign_in(page, base, staff.email)

    # The proposal, the admin: each leads to the set-up, where allauth first asks for the password again.
    for path in (f"/proposals/{proposal.pk}/", "/admin/"):
        page.goto(f"{base}{path}")
        page.wait_for_url(re.compile(r"/accounts/reauthenticate/\?next=%2Faccounts%2F2fa%2Ftotp%2Factivate%2F"))
        expect(page.get_by_text("Set up two-factor authentication first")).to_be_visible()
    assert proposal.title not in page.content()

    page.fill("input[name=password]", PASSWORD)
    page.locator("form button[type=submit]").last.click()
    page.wait_for_url(re.compile(r"/accounts/2fa/totp/activate/"))
    assert serious_accessibility_violations(page) == []
    secret = page.input_value("#authenticator_secret")
    page.fill("input[name=code]", current_totp_code(secret))
    page.locator("input[name=code]").press("Enter")
    page.wait_for_url(re.compile(r"/accounts/2fa/recovery-codes/"))

    page.goto(f"{base}/proposals/{proposal.pk}/")
    expect(page.locator("h1")).to_contain_text(proposal.acronym)
    assert page.url == f"{base}/proposals/{proposal.pk}/"
