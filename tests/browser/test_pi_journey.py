"""A PI's whole path in a real browser: sign in, draft, team, budget, letter, checklist, submit, receipt;
and the foreign partner uploading the letter through the invitation link."""

import re

import pytest
from django.core import mail
from playwright.sync_api import expect
from pypdf import PdfReader

from calls.models import Institute
from proposals.models import Proposal, ProposalVersion
from tests.factories import CallFactory, UnitFactory, UserFactory
from tests.pdfs import pdf_bytes

from .helpers import serious_accessibility_violations, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def setting(settings, tmp_path):
    settings.LANGUAGE_CODE = "en"
    institute = Institute.objects.create(code="INEE", legal_name="Institut écologie et environnement",
                                         usage_name="CNRS Écologie & Environnement")
    unit = UnitFactory(unit_type="UMR", number="5558", acronym="LBBE", name="Biométrie et biologie évolutive",
                       main_institute=institute)
    call = CallFactory()
    pi = UserFactory(email="pi@example.org", full_name="Paula Investigator")
    letter = tmp_path / "support-letter.pdf"
    letter.write_bytes(pdf_bytes(2))
    return {"call": call, "unit": unit, "pi": pi, "letter": letter}


def _wait_saved(page):
    expect(page.locator("#saved-indicator")).to_contain_text("Saved at")


def test_pi_prepares_and_submits_a_proposal(live_server, page, setting, tmp_path):
    base = live_server.url
    call = setting["call"]
    sign_in(page, base, "pi@example.org")
    page.goto(f"{base}/calls/{call.year}/")
    assert serious_accessibility_violations(page) == []
    page.locator(f"form[action='/proposals/new/{call.year}/'] button").click()
    page.wait_for_url(re.compile(r"/proposals/\d+/edit/$"))
    proposal = Proposal.objects.get(pi=setting["pi"])

    # Typing saves the draft (htmx) without a click.
    page.fill("#id_title", "Coastal erosion under changing storms")
    _wait_saved(page)
    page.fill("#id_acronym", "COAST")
    page.fill("#id_abstract", "We compare erosion on two coasts.")
    page.fill("#id_keywords", "erosion, coasts")
    page.fill("#id_unit_code", "umr5558")
    page.fill("#id_partner_name", "Ana Souza")
    page.fill("#id_partner_email", "ana@usp.example.br")
    page.fill("#id_partner_institution", "Universidade de São Paulo")
    page.select_option("#id_partner_country", "BR")
    page.fill("#id_activities", "Two missions a year and a workshop in São Paulo.")
    page.fill("#id_ethics_statement", "No ethical issue.")
    page.fill("#id_budget_1_mobility", "4000")
    page.fill("#id_budget_2_mobility", "4000")
    page.fill("#id_budget_1_meetings", "2500")
    page.fill("#id_budget_2_meetings", "1500")
    # Totals are computed as you type.
    assert page.locator("[data-grand-total]").inner_text() == "€12,000.00"  # as iea.formats.money writes it
    expect(page.locator("[data-check=budget]")).to_have_class("ok")
    proposal.refresh_from_db()
    assert (proposal.acronym, proposal.unit.code, proposal.partner_country.code) == ("COAST", "UMR 5558", "BR")

    # Teams on both sides.
    for side, name in (("cnrs", "Marie Curie"), ("partner", "Ana Souza")):
        page.select_option("#id_side", side)
        page.fill("#id_name", name)
        page.locator("#team form.form button[type=submit]").click()
        page.wait_for_selector(f"#team td:has-text('{name}')")
    assert page.locator("[data-check=team]").get_attribute("class") == "ok"
    assert page.locator("[data-check=letter]").get_attribute("class") == "ko"

    # A file that is not a PDF is refused with a precise message, and nothing is lost.
    bad = tmp_path / "letter.pdf"
    bad.write_bytes(b"<html><body>not a pdf</body></html>")
    page.set_input_files("#id_file", str(bad))
    page.locator("#letter form.upload-box button[type=submit]").click()
    page.wait_for_selector("#letter .errorlist")
    assert "HTML" in page.locator("#letter .errorlist").inner_text()
    assert page.input_value("#id_title") == "Coastal erosion under changing storms"

    page.set_input_files("#id_file", str(setting["letter"]))
    page.locator("#letter form.upload-box button[type=submit]").click()
    page.wait_for_selector("#letter .file-meta")
    expect(page.locator("#checklist li.ko")).to_have_count(0)
    assert serious_accessibility_violations(page) == []

    page.locator("#submit-button").click()
    page.wait_for_url(re.compile(rf"/proposals/{proposal.pk}/$"))
    version = ProposalVersion.objects.get(proposal=proposal)
    assert version.number == 1
    assert page.locator(".messages").inner_text().count("version 1") == 1
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download the receipt (PDF)").click()
    receipt = download_info.value.path().read_bytes()
    assert receipt.startswith(b"%PDF")
    text = "".join(p.extract_text() for p in PdfReader(download_info.value.path()).pages)
    assert version.letter.sha256 in text.replace("\n", "")
    assert [m.subject for m in mail.outbox if "Receipt" in m.subject] == [
        f"Receipt: proposal {proposal.reference} submitted (version 1)"
    ]
    assert serious_accessibility_violations(page) == []
    page.goto(f"{base}/dashboard/")
    expect(page.locator("#my-proposals tbody tr")).to_have_count(1)
    expect(page.locator("#my-proposals .badge-submitted")).to_have_text("Submitted")
    assert serious_accessibility_violations(page) == []
    # The only failed request is the refused HTML file (400); nothing else, and no CSP violation.
    assert [e for e in page.console_errors if "status of 400" not in e] == []


def test_partner_uploads_the_letter_through_the_invitation(live_server, browser, page, setting):
    base = live_server.url
    from tests.factories import ProposalFactory

    proposal = ProposalFactory(call=setting["call"], pi=setting["pi"], complete=True)
    sign_in(page, base, "pi@example.org")
    page.goto(f"{base}/proposals/{proposal.pk}/edit/")
    page.fill("#id_email", "ana@usp.example.br")
    page.locator("form[action$='/invite/'] button[type=submit]").click()
    page.wait_for_selector("#letter .message-success")
    invitation_mail = next(m for m in mail.outbox if m.to == ["ana@usp.example.br"])
    link = re.search(r"https?://\S+/proposals/partner/\S+/", invitation_mail.body).group(0)
    path = link.split("/proposals/", 1)[1]

    partner_context = browser.new_context(locale="en-GB", timezone_id="Europe/Paris")
    partner = partner_context.new_page()
    partner.goto(f"{base}/proposals/{path}")
    assert proposal.title in partner.locator("main").inner_text()
    assert serious_accessibility_violations(partner) == []
    partner.set_input_files("#id_file", str(setting["letter"]))
    partner.check("#id_cofunding")
    partner.fill("#id_cofunding_amount", "5000")
    partner.fill("#id_cofunding_currency", "BRL")
    partner.locator("form.upload-box button[type=submit]").click()
    partner.wait_for_selector(".message-success")
    letter = proposal.letters.get()
    assert (letter.uploaded_by_partner, letter.cofunding_amount, letter.cofunding_currency) == (True, 5000, "BRL")
    partner_context.close()

    # The PI sees the letter appear in the checklist.
    page.goto(f"{base}/proposals/{proposal.pk}/edit/")
    assert page.locator("[data-check=letter]").get_attribute("class") == "ok"
