"""Behind nginx, in Chromium (#16): someone types wrong passwords for a PI's account from their own address
and is stopped, with a message in French that says what to do; the PI, from theirs, signs in at once.

The live server plays the app behind nginx: its connections come from 127.0.0.1, a trusted proxy here, and
each browser sends the X-Forwarded-For that nginx would write for it."""

import re

import pytest
from django.core.cache import cache
from playwright.sync_api import expect

from tests.factories import PASSWORD, UserFactory

from .conftest import CSP_REFUSALS
from .helpers import serious_accessibility_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def behind_nginx(browser, address: str, locale: str):
    context = browser.new_context(locale=locale, timezone_id="Europe/Paris",
                                  extra_http_headers={"X-Forwarded-For": address})
    context.set_default_timeout(15_000)
    context.add_init_script(CSP_REFUSALS)
    return context


def try_password(page, base: str, email: str, password: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", password)
    page.locator("main form button[type=submit]").last.click()
    page.wait_for_load_state()


def test_wrong_passwords_from_elsewhere_stop_their_author_not_the_pi(live_server, browser, settings):
    settings.TRUSTED_PROXIES = ["127.0.0.1"]
    cache.clear()
    UserFactory(email="pi@cnrs.example.fr", full_name="Paula Investigator", language="fr")
    base = live_server.url
    attacker = behind_nginx(browser, "198.51.100.66", "fr-FR")
    pi = behind_nginx(browser, "192.0.2.44", "fr-FR")
    try:
        page = attacker.new_page()
        for n in range(6):
            try_password(page, base, "pi@cnrs.example.fr", f"devine-{n}")
        expect(page.locator("main")).to_contain_text(
            "Trop de tentatives de connexion ont échoué depuis votre réseau. Attendez quelques minutes avant de "
            "réessayer, ou réinitialisez votre mot de passe.")
        assert page.locator("input[name=login]").input_value() == "pi@cnrs.example.fr"  # nothing typed is lost
        assert serious_accessibility_violations(page) == []
        try_password(page, base, "pi@cnrs.example.fr", PASSWORD)  # even the right password, from there
        expect(page.locator("main")).to_contain_text("Trop de tentatives de connexion")

        own = pi.new_page()
        try_password(own, base, "pi@cnrs.example.fr", PASSWORD)
        own.wait_for_url(lambda url: "/accounts/login/" not in url)
        expect(own.locator(".user-name")).to_have_text(re.compile("Paula Investigator"))
    finally:
        attacker.close()
        pi.close()
        cache.clear()
