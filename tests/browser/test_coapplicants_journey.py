"""Co-applicants in a real browser (issue #21), on a phone and on a desktop.

The PI (in French) invites a colleague from the proposal's page; the colleague (in English) opens the
invitation's link, signs in, accepts, finds the proposal in "My proposals" marked as a co-application, and
edits the abstract while the PI has the editor open in another browser; the PI's next save is refused with a
banner naming the colleague, and the PI's text is still in the form. The colleague has no submit button and is
told the PI submits; the PI reloads and submits. axe on each page, nothing cut off at phone width, nothing
refused by the CSP."""

import os
import tempfile
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from proposals.domain import letter_attach
from proposals.letters import check_pdf
from proposals.models import CoApplicant, Proposal, ProposalState
from tests.factories import ProposalFactory, UserFactory
from tests.pdfs import pdf_upload

from .conftest import CSP_REFUSALS
from .helpers import serious_accessibility_violations, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 900}
SHOTS = Path(os.environ.get("SCREENSHOTS_DIR") or tempfile.gettempdir()) / "coapplicants"


def _context(browser, language, viewport):
    context = browser.new_context(locale="fr-FR" if language == "fr" else "en-GB", timezone_id="Europe/Paris",
                                  viewport=viewport)
    context.set_default_timeout(30_000)  # the submit renders the receipt PDF
    context.add_init_script(CSP_REFUSALS)
    page = context.new_page()
    errors = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    return context, page, errors


def _fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_a_colleague_joins_edits_and_the_pi_submits(live_server, browser, size):
    SHOTS.mkdir(parents=True, exist_ok=True)
    viewport = PHONE if size == "phone" else DESKTOP
    pi = UserFactory(email="camille@cnrs.example.fr", full_name="Camille Martin", language="fr")
    UserFactory(email="marie.curie@cnrs.example.fr", full_name="Marie Curie", language="en")
    draft = ProposalFactory(pi=pi, complete=True)
    letter_attach(proposal_id=draft.pk, pdf=check_pdf(pdf_upload()), now=timezone.now(), user=pi)
    base = live_server.url

    # The PI invites the colleague from the proposal's page (French).
    pi_context, pi_page, pi_errors = _context(browser, "fr", viewport)
    sign_in(pi_page, base, "camille@cnrs.example.fr")
    pi_page.goto(f"{base}/proposals/{draft.pk}/")
    form = pi_page.locator("#coapplicant-form")
    form.get_by_label("Adresse électronique de la personne invitée").fill("marie.curie@cnrs.example.fr")
    form.get_by_label("Langue du courriel").select_option("en")
    form.get_by_role("button", name="Envoyer l'invitation").click()
    expect(pi_page.locator(".messages")).to_contain_text("marie.curie@cnrs.example.fr")
    expect(pi_page.locator("#coapplicant-list")).to_contain_text("pas encore acceptée")
    assert serious_accessibility_violations(pi_page) == []
    assert _fits(pi_page)
    pi_page.screenshot(path=f"{SHOTS}/pi-fr-{size}-invited.png", full_page=True)
    invitation = CoApplicant.objects.get()
    assert (invitation.email, invitation.language, invitation.user) == ("marie.curie@cnrs.example.fr", "en", None)

    # The colleague opens the link (English), signs in, accepts.
    co_context, co_page, co_errors = _context(browser, "en", viewport)
    link = f"{base}/proposals/coapplicants/{invitation.nonce}/"
    co_page.goto(link)
    expect(co_page).to_have_url(f"{base}/accounts/login/?next=/proposals/coapplicants/{invitation.nonce}/")
    sign_in(co_page, base, "marie.curie@cnrs.example.fr")
    co_page.goto(link)
    expect(co_page.locator("#coapplicant-invitation")).to_contain_text("Camille Martin invites you to prepare")
    assert serious_accessibility_violations(co_page) == []
    co_page.get_by_role("button", name="Accept the invitation").click()
    expect(co_page.locator(".messages")).to_contain_text("You now prepare this proposal with Camille Martin.")
    expect(co_page.locator("#pi-submits")).to_contain_text("Camille Martin, the PI, submits it.")
    expect(co_page.get_by_role("button", name="Submit the proposal")).to_have_count(0)
    co_page.goto(f"{base}/dashboard/")
    expect(co_page.locator("#my-proposals")).to_contain_text("co-applicant")
    expect(co_page.locator("#my-proposals")).to_contain_text("PI: Camille Martin")
    assert serious_accessibility_violations(co_page) == []
    assert _fits(co_page)
    co_page.screenshot(path=f"{SHOTS}/coapplicant-en-{size}-dashboard.png", full_page=True)

    # Both open the editor; the colleague saves first.
    pi_page.goto(f"{base}/proposals/{draft.pk}/edit/")
    co_page.goto(f"{base}/proposals/{draft.pk}/edit/")
    expect(co_page.locator("#submit-button")).to_have_count(0)
    co_page.get_by_label("Abstract").fill("Marie's abstract: storms, dunes and the memory of the coast.")
    expect(co_page.locator("#saved-indicator")).to_contain_text("Saved at")
    assert Proposal.objects.get(pk=draft.pk).abstract.startswith("Marie's abstract")

    # The PI's save is refused, naming the colleague; the PI's text stays in the form.
    pi_page.get_by_label("Résumé").fill("Le résumé de Camille.")
    expect(pi_page.locator("#conflict")).to_contain_text("Marie Curie a enregistré ce brouillon")
    expect(pi_page.get_by_label("Résumé")).to_have_value("Le résumé de Camille.")
    assert serious_accessibility_violations(pi_page) == []
    pi_page.screenshot(path=f"{SHOTS}/pi-fr-{size}-conflict.png", full_page=True)
    assert Proposal.objects.get(pk=draft.pk).abstract.startswith("Marie's abstract")

    # The PI loads the saved version and submits.
    pi_page.goto(f"{base}/proposals/{draft.pk}/edit/")
    expect(pi_page.get_by_label("Résumé")).to_have_value("Marie's abstract: storms, dunes and the memory of the coast.")
    pi_page.locator("#submit-button").click()
    expect(pi_page.locator(".messages")).to_contain_text("Déposée le")
    assert Proposal.objects.get(pk=draft.pk).state == ProposalState.SUBMITTED
    expect(pi_page.locator("#history-list")).to_contain_text("Marie Curie")
    pi_page.screenshot(path=f"{SHOTS}/pi-fr-{size}-submitted.png", full_page=True)
    assert _fits(pi_page)

    pi_context.close()
    co_context.close()
    assert [e for e in pi_errors + co_errors if e.startswith("CSP violation")] == []
