"""Issue #21 in a real browser: a request for information at screening. Staff ask in the admin (in French) for a
signed letter and a corrected title; the PI, after the call's deadline, finds the banner, opens the editor where
only those items may change (the abstract is locked), uploads the letter, fixes the title and sends the answer —
a new version; staff see "answered — screen again" and confirm the proposal eligible. The PI in English on a
phone and in French on a desktop; axe and the Content-Security-Policy checked on every page."""

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from proposals.domain import current_letter, proposal_snapshot
from proposals.domain.submission import content_hash
from proposals.models import InformationRequest, Proposal, ProposalState, ProposalVersion
from tests.factories import StaffFactory, UserFactory
from tests.pdfs import pdf_bytes
from tests.reviews.staff_factories import closed_call, submitted_proposal

from .helpers import journey_context as _context
from .helpers import serious_accessibility_violations, sign_in

SCREENS = Path(__file__).resolve().parents[2] / "var" / "screens"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

STAFF_FR = {"ask": "Demander des compléments", "letter": "lettre de soutien", "title": "titre",
            "message": "Ce qu'il faut corriger (envoyé au porteur ou à la porteuse)",
            "send": "Envoyer la demande au porteur ou à la porteuse", "asked": "Compléments demandés, jusqu'au",
            "answered": "Réponse reçue (version 2) — à examiner de nouveau", "confirm": "Confirmer la recevabilité"}
PI = {
    "en": {"banner": "The directorate asks you for information", "change": "Make the change", "save": "Save",
           "upload": "Upload", "answer": "Send the answer", "sent": "Your answer was sent (version 2)"},
    "fr": {"banner": "La direction vous demande des compléments", "change": "Faire la modification",
           "save": "Enregistrer", "upload": "Téléverser", "answer": "Envoyer la réponse",
           "sent": "Votre réponse a été envoyée (version 2)"},
}


def _checked(page, name):
    assert serious_accessibility_violations(page) == []
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), name
    SCREENS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENS / f"{name}.png"), full_page=True)


@pytest.mark.parametrize(("language", "viewport"), [
    ("en", {"width": 390, "height": 844}), ("fr", {"width": 1280, "height": 900}),
])
def test_staff_ask_the_pi_fixes_only_what_was_asked_and_staff_screen_it(live_server, browser, language, viewport,
                                                                        tmp_path):
    staff = StaffFactory(email="ines.controle@example.org", full_name="Inès Contrôle", language="fr")
    pi = UserFactory(email="camille.moreau@cnrs.example.fr", full_name="Camille Moreau", language=language)
    call = closed_call()
    proposal = submitted_proposal(call, pi=pi, acronym="MIGRAVIA", title="Migratory shorebirds of the Red River")
    letter = current_letter(proposal)
    snapshot = proposal_snapshot(proposal, letter)
    ProposalVersion.objects.create(proposal=proposal, number=1, submitted_at=proposal.submitted_at, submitted_by=pi,
                                   content=snapshot, content_sha256=content_hash(snapshot), letter=letter)
    base = live_server.url

    # Staff, in French, on a desktop: ask for the signed letter and the title.
    staff_context, page, staff_errors = _context(browser, "fr", {"width": 1280, "height": 900})
    sign_in(page, base, staff.email, code=True)
    page.goto(f"{base}/admin/reviews/decision/call/{call.pk}/screening/")
    page.locator(f"#p{proposal.pk}").get_by_role("link", name=STAFF_FR["ask"]).click()
    page.get_by_label(STAFF_FR["letter"], exact=True).check()
    page.get_by_label(STAFF_FR["title"], exact=True).check()
    page.get_by_label(STAFF_FR["message"]).fill("La lettre n'est pas signée ; le titre doit nommer la Camargue.")
    _checked(page, f"rfi-admin-ask-{language}")
    page.get_by_role("button", name=STAFF_FR["send"]).click()
    expect(page.locator(f"#p{proposal.pk}")).to_contain_text(STAFF_FR["asked"])
    _checked(page, f"rfi-admin-screening-open-{language}")
    assert InformationRequest.objects.get().items == ["letter", "title"]

    # The PI, after the deadline: the banner, then the editor where only the letter and the title change.
    text = PI[language]
    pi_context, pi_page, pi_errors = _context(browser, language, viewport)
    sign_in(pi_page, base, pi.email)
    pi_page.goto(f"{base}/proposals/{proposal.pk}/")
    expect(pi_page.locator("#information-request")).to_contain_text(text["banner"])
    expect(pi_page.locator("#information-request")).to_contain_text("Camargue")
    _checked(pi_page, f"rfi-pi-detail-{language}-{viewport['width']}")
    pi_page.get_by_role("link", name=text["change"]).click()
    expect(pi_page.locator("textarea[name=abstract]")).to_be_disabled()
    pdf = tmp_path / "lettre-signee.pdf"
    pdf.write_bytes(pdf_bytes())
    pi_page.locator("#letter input[type=file]").set_input_files(str(pdf))
    pi_page.locator("#letter").get_by_role("button", name=text["upload"]).click()
    expect(pi_page.locator("#letter")).to_contain_text("lettre-signee.pdf")
    pi_page.locator("input[name=title]").fill("Migratory shorebirds of the Red River delta and the Camargue")
    pi_page.get_by_role("button", name=text["save"], exact=True).click()
    expect(pi_page.locator("input[name=title]")).to_have_value(re.compile("Camargue"))
    _checked(pi_page, f"rfi-pi-editor-{language}-{viewport['width']}")
    pi_page.get_by_role("button", name=text["answer"]).click()
    expect(pi_page.locator("body")).to_contain_text(text["sent"])
    version = ProposalVersion.objects.get(proposal=proposal, number=2)
    assert version.content["title"] == "Migratory shorebirds of the Red River delta and the Camargue"
    assert version.content["letter"]["name"] == "lettre-signee.pdf"
    _checked(pi_page, f"rfi-pi-answered-{language}-{viewport['width']}")

    # Staff see the answer and screen the proposal eligible.
    page.reload()
    row = page.locator(f"#p{proposal.pk}")
    expect(row).to_contain_text(STAFF_FR["answered"])
    row.get_by_role("button", name=STAFF_FR["confirm"]).click()
    expect(page.locator(f"#p{proposal.pk}")).to_have_count(0)
    assert Proposal.objects.get(pk=proposal.pk).state == ProposalState.ELIGIBLE
    for errors in (staff_errors, pi_errors):
        assert [error for error in errors if error.startswith("CSP violation")] == []
    staff_context.close()
    pi_context.close()
