"""A PI creates a personal API token in the browser (confirming their password), copies it, and a script
uses it; then the PI revokes it."""

import re

import pytest
from playwright.sync_api import expect
from rest_framework.test import APIClient

from iea.accounts.models import ApiToken
from tests.factories import PASSWORD, UserFactory

from .helpers import serious_accessibility_violations, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_pi_creates_uses_and_revokes_a_token(live_server, page, settings):
    settings.LANGUAGE_CODE = "en"
    pi = UserFactory(email="pi@example.org")
    sign_in(page, live_server.url, pi.email)
    page.get_by_role("link", name="API tokens").click()
    page.fill("input[name=name]", "finance export")
    page.select_option("select[name=scopes]", "read")
    page.get_by_role("button", name="Create the token").click()
    # allauth asks to confirm the sign-in first, then replays the creation it held back.
    page.wait_for_url(re.compile(r"/accounts/reauthenticate/"))
    assert ApiToken.objects.count() == 0
    page.fill("input[name=password]", PASSWORD)
    page.locator("form button[type=submit]").last.click()
    page.wait_for_url(re.compile(r"/accounts/api-tokens/$"))
    assert list(ApiToken.objects.values_list("name", "scopes")) == [("finance export", "read")]
    secret = page.locator("#new-token").inner_text()
    assert secret.startswith("iea_")
    assert serious_accessibility_violations(page) == []

    script = APIClient(HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert script.get("/api/v1/units/").status_code == 200

    page.reload()
    expect(page.locator("#new-token")).to_have_count(0)  # shown once
    page.get_by_role("button", name="Revoke finance export").click()
    expect(page.locator("#api-tokens")).to_contain_text("Revoked")
    assert script.get("/api/v1/units/").status_code == 401
