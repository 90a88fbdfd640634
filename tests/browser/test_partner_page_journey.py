"""The foreign partner's side in a real browser (issue #15): through the invitation link, on a phone and in
French, the partner sees the proposal, the teams, the budget with its totals and the current letter with its
state, downloads the letter, and is never asked to create an account."""

from decimal import Decimal

import pytest
from django.utils import timezone, translation
from playwright.sync_api import expect

from iea import formats
from proposals import domain
from proposals.letters import check_pdf
from tests.factories import ProposalFactory, UserFactory
from tests.pdfs import hostile_pdf, pdf_upload, plain_pdf

from .helpers import serious_accessibility_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_partner_sees_the_budget_and_the_letter(live_server, browser):
    proposal = ProposalFactory(complete=True, pi=UserFactory(full_name="Paula Investigator"))
    now = timezone.now()
    letter = domain.letter_attach(proposal_id=proposal.pk, pdf=check_pdf(pdf_upload()), now=now, user=proposal.pi)
    invitation = domain.invitation_create(proposal_id=proposal.pk, user=proposal.pi, email="ana@usp.example.br",
                                          language="fr", now=now)
    context = browser.new_context(locale="fr-FR", timezone_id="Europe/Paris", accept_downloads=True,
                                  viewport={"width": 390, "height": 844})
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.goto(f"{live_server.url}/proposals/partner/{domain.invitation_token(invitation)}/")

    main = page.locator("main")
    expect(main).to_contain_text("Coastal erosion under changing storms")
    expect(main).to_contain_text("Paula Investigator")
    budget = page.locator("#partner-budget")
    expect(budget).to_contain_text("Année 2")
    with translation.override("fr"):
        total, year_total = formats.money(Decimal(12000)), formats.money(Decimal(6000))
    expect(budget.locator("tfoot")).to_contain_text(total)
    expect(budget.locator("tfoot")).to_contain_text(year_total)
    expect(page.locator("#partner-letter")).to_contain_text(letter.original_name)
    expect(page.locator("#partner-letter")).to_contain_text("Pas encore déposée")
    expect(page.get_by_role("link", name="Créer un compte")).to_have_count(0)
    expect(page.get_by_role("link", name="Se connecter")).to_have_count(0)
    assert serious_accessibility_violations(page) == []

    with page.expect_download() as download:
        page.get_by_role("link", name="Télécharger la lettre").click()
    assert download.value.suggested_filename == f"support-letter-{proposal.reference}.pdf"
    # The budget table fits the phone: it scrolls inside its region, not the page.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    context.close()


def test_the_partner_is_told_why_a_pdf_with_active_content_is_refused_and_the_letter_stays(live_server, browser):
    """In French on a phone: the policy is stated under the field; a plain PDF named with a right-to-left
    override is shown under its cleaned name; a PDF with JavaScript is refused, naming it, and that letter
    stays the current one."""
    proposal = ProposalFactory(complete=True)
    invitation = domain.invitation_create(proposal_id=proposal.pk, user=proposal.pi, email="ana@usp.example.br",
                                          language="fr", now=timezone.now())
    context = browser.new_context(locale="fr-FR", timezone_id="Europe/Paris", viewport={"width": 390, "height": 844})
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.goto(f"{live_server.url}/proposals/partner/{domain.invitation_token(invitation)}/")
    expect(page.locator("form.upload-box")).to_contain_text(
        "Un PDF contenant du JavaScript, des actions automatiques ou de lancement, ou des fichiers joints est refusé")

    page.set_input_files("#id_file", files=[{"name": "lettre\u202efdp.exe", "mimeType": "application/pdf",
                                             "buffer": plain_pdf("signed-looking")}])
    page.locator("form.upload-box button[type=submit]").click()
    expect(page.locator("#partner-letter")).to_contain_text("lettrefdp.pdf")

    page.set_input_files("#id_file", files=[{"name": "lettre.pdf", "mimeType": "application/pdf",
                                             "buffer": hostile_pdf("javascript-open-action")}])
    page.locator("form.upload-box button[type=submit]").click()
    expect(page.locator("form.upload-box .errorlist")).to_contain_text("Ce PDF contient du JavaScript")
    expect(page.locator("#partner-letter")).to_contain_text("lettrefdp.pdf")
    assert domain.current_letter(proposal).original_name == "lettrefdp.pdf"
    assert serious_accessibility_violations(page) == []
    context.close()
