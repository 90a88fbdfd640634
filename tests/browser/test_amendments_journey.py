"""Amendments after the award, in a real browser: the PI asks for a no-cost extension in English on a phone (a
refusal keeps what was typed); the unit's manager gives the opinion in French on a desktop; staff approve it in
the admin in French (the confirmation page); the PI sees the new end date and downloads the re-issued letter.
axe on every page, nothing wider than a phone, nothing refused by the CSP; screenshots in $SCREENSHOTS_DIR/amendments."""

import os
import pathlib
import tempfile

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from funding.domain.awards import add_months
from funding.models import Amendment, Award
from iea import formats
from tests.factories import StaffFactory, UserFactory
from tests.funding.factories import award_factory
from tests.pdfs import pdf_text

from .conftest import CSP_REFUSALS
from .helpers import serious_accessibility_violations, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = pathlib.Path(os.environ.get("SCREENSHOTS_DIR") or tempfile.gettempdir()) / "amendments"
PHONE, DESKTOP = {"width": 390, "height": 844}, {"width": 1280, "height": 900}


def _page(browser, language, viewport):
    context = browser.new_context(locale="fr-FR" if language == "fr" else "en-GB", timezone_id="Europe/Paris",
                                  viewport=viewport, accept_downloads=True)
    context.set_default_timeout(15_000)
    context.add_init_script(CSP_REFUSALS)
    page = context.new_page()
    errors = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    return page, errors


def _check(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
    assert serious_accessibility_violations(page) == []
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), f"{name} is cut off"


def test_an_extension_from_request_to_reissued_letter(live_server, browser):
    award = award_factory()
    pi = award.proposal.pi
    manager = UserFactory(email="gestion@cefe.example.fr", full_name="Gaëlle Gestion", language="fr")
    award.unit.managers.add(manager)
    staff = StaffFactory(email="direction@example.org", language="fr")
    new_end = add_months(award.end_date, 4)

    # The PI, in English, on a phone.
    page, errors = _page(browser, "en", PHONE)
    sign_in(page, live_server.url, pi.email)
    page.goto(f"{live_server.url}/awards/{award.pk}/")
    _check(page, "pi-award-en-phone")
    page.get_by_role("link", name="No-cost extension").click()
    page.fill("#id_months", "9")
    page.fill("#id_reason", "Our field season moves from May to September: the visas come late.")
    _check(page, "pi-extension-form-en-phone")
    page.get_by_role("button", name="Send the request").click()
    expect(page.locator("#err-months")).to_contain_text("6 months are left for this award")
    expect(page.locator("#id_reason")).to_have_value("Our field season moves from May to September: the visas come late.")
    page.fill("#id_months", "4")
    page.get_by_role("button", name="Send the request").click()
    expect(page.locator(".messages")).to_contain_text("Your request was sent to your unit")
    expect(page.locator("#amendments")).to_contain_text("Waiting for the unit's opinion")
    _check(page, "pi-amendments-en-phone")
    amendment = Amendment.objects.get()

    # The unit's manager, in French, on a desktop.
    page2, errors2 = _page(browser, "fr", DESKTOP)
    sign_in(page2, live_server.url, manager.email)
    page2.goto(f"{live_server.url}/awards/unit/{award.pk}/")
    expect(page2.locator("#amendments")).to_contain_text("Prolongation sans coût supplémentaire")
    page2.get_by_label("Défavorable").check()
    page2.get_by_role("button", name="Donner l'avis de l'unité").click()
    expect(page2.locator(f"#err-a{amendment.pk}-comment")).to_contain_text("Dites pourquoi")
    page2.get_by_label("Favorable", exact=True).check()
    page2.get_by_label("Commentaire").fill("Avis favorable : aucun surcoût pour l'unité.")
    page2.get_by_role("button", name="Donner l'avis de l'unité").click()
    expect(page2.locator(".messages")).to_contain_text("L'avis de l'unité a été transmis")
    _check(page2, "unit-amendments-fr-desktop")
    assert Amendment.objects.get().state == "opinion"

    # Staff, in French, in the admin.
    page3, errors3 = _page(browser, "fr", DESKTOP)
    sign_in(page3, live_server.url, staff.email, code=True)
    page3.goto(live_server.url + reverse("admin:funding_amendment_changelist") + "?state__exact=opinion")
    _check(page3, "admin-amendments-fr-desktop")
    page3.get_by_role("link", name="Approuver…").click()
    expect(page3.locator("#content-main")).to_contain_text("Avis favorable : aucun surcoût")
    _check(page3, "admin-approve-fr-desktop")
    page3.get_by_role("button", name="Approuver").click()
    expect(page3.locator("ul.messagelist")).to_contain_text("Avenant approuvé")
    assert Award.objects.get(pk=award.pk).end_date == new_end

    # The PI sees the new end date and downloads the re-issued letter.
    page.goto(f"{live_server.url}/awards/{award.pk}/")
    expect(page.locator("main")).to_contain_text(formats.date(new_end, language="en"))
    expect(page.locator("#amendments")).to_contain_text("the award is at version 2")
    _check(page, "pi-award-approved-en-phone")
    with page.expect_download() as download:
        page.get_by_role("link", name="Award letter (PDF)").click()
    words = " ".join(pdf_text(pathlib.Path(download.value.path()).read_bytes()).split())
    assert "Version 2: this letter replaces the earlier ones" in words
    assert "a no-cost extension of 4 months" in words

    assert [e for e in errors + errors2 + errors3 if e.startswith("CSP violation")] == []
