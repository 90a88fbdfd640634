"""A newcomer in Chromium: signs up with their first and last name (a name left blank is refused, nothing typed
is lost), confirms their address from the mail, sees their name in the header and on their proposal's receipt,
then corrects their name and language on their account page, on a desktop and on a phone."""

import re

import pytest
from django.core import mail
from playwright.sync_api import expect
from pypdf import PdfReader

from iea.accounts.models import User
from tests.reviews.factories import eligible_proposal

from .helpers import serious_accessibility_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSPHRASE = "a-long-passphrase-2027"


def test_a_newcomer_signs_up_with_their_name_and_edits_it_on_their_account_page(live_server, page, settings):
    settings.LANGUAGE_CODE = "en"
    base = live_server.url

    page.goto(f"{base}/accounts/signup/")
    assert serious_accessibility_violations(page) == []
    page.get_by_label("First name").fill("Claire")
    page.get_by_label("Last name").fill("   ")  # only spaces: the browser sends it, the server refuses it
    page.get_by_label("Email").fill("claire.newcomer@example.org")
    page.fill("input[name=password1]", PASSPHRASE)
    page.fill("input[name=password2]", PASSPHRASE)
    page.locator("main form button[type=submit]").last.click()
    expect(page.locator("main .errorlist")).to_have_text("Enter your last name.")
    assert page.get_by_label("First name").input_value() == "Claire"
    assert page.get_by_label("Email").input_value() == "claire.newcomer@example.org"
    assert User.objects.count() == 0

    page.get_by_label("Last name").fill("Newcomer")
    page.fill("input[name=password1]", PASSPHRASE)
    page.fill("input[name=password2]", PASSPHRASE)
    page.locator("main form button[type=submit]").last.click()
    page.wait_for_url(re.compile(r"/accounts/confirm-email/$"))
    [confirmation] = [m for m in mail.outbox if m.to == ["claire.newcomer@example.org"]]
    assert confirmation.body.startswith("Dear Claire Newcomer,")
    link = re.search(r"https?://\S+(/accounts/confirm-email/\S+/)", confirmation.body).group(1)
    page.goto(f"{base}{link}")
    page.locator("main form button[type=submit]").last.click()
    page.wait_for_url(lambda url: "/accounts/" not in url)
    expect(page.locator(".user-name")).to_have_text("Signed in as Claire Newcomer")

    # Their proposal and its receipt name them.
    user = User.objects.get()
    assert (user.first_name, user.last_name) == ("Claire", "Newcomer")
    proposal = eligible_proposal(pi=user)
    page.goto(f"{base}/proposals/{proposal.pk}/")
    expect(page.locator("main dl")).to_contain_text("Claire Newcomer")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download the receipt (PDF)").click()
    receipt = "".join(p.extract_text() for p in PdfReader(download_info.value.path()).pages)
    assert "Claire Newcomer" in receipt

    # The name in the header opens the account page; the name and the language are changed there.
    page.locator(".user-name").click()
    page.wait_for_url(f"{base}/account/")
    expect(page.get_by_role("heading", level=1)).to_have_text("My account")
    expect(page.locator("#account-addresses")).to_contain_text("claire.newcomer@example.org")
    for link_name in ("Manage my e-mail addresses", "Change my password", "Manage two-factor authentication",
                      "Notifications", "API tokens", "My deadlines", "My data"):
        expect(page.locator("main").get_by_role("link", name=link_name)).to_be_visible()
    assert serious_accessibility_violations(page) == []
    page.get_by_label("Last name").fill("")
    page.locator("main form button[type=submit]").click()  # the browser asks for it first (required)
    assert page.evaluate("document.querySelector('#id_last_name').validity.valueMissing") is True
    page.get_by_label("Last name").fill("Newcomer-Dupré")
    page.select_option("#id_language", "fr")
    page.locator("main form button[type=submit]").click()
    expect(page.locator(".messages")).to_have_text("Votre compte est enregistré.")
    expect(page.locator(".user-name")).to_have_text("Connecté·e en tant que Claire Newcomer-Dupré")
    expect(page.get_by_label("Nom de famille")).to_have_value("Newcomer-Dupré")
    assert serious_accessibility_violations(page) == []
    user.refresh_from_db()
    assert (user.display_name, user.language) == ("Claire Newcomer-Dupré", "fr")

    # On a phone: the form fits the screen, nothing scrolls sideways.
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    expect(page.get_by_label("Prénom")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert serious_accessibility_violations(page) == []
    assert page.console_errors == []
