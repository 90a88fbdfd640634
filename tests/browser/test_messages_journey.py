"""Messages (#21) in a real browser: in French on a phone and in English on a desktop, the PI writes about
their proposal and attaches a PDF (a fake PDF first: refused, the text kept), the panel's officer sees one unread
message on the proposal's panel page, reads it, downloads nothing by mistake and answers; the PI sees the unread
count on "My proposals", opens the conversation, the answer marked new, and reading it clears the marker; staff
find the conversation in the back office among those waiting for an answer and close it. axe on each page, nothing
cut off at phone width, nothing refused by the CSP."""

import os
import tempfile
from pathlib import Path

import pytest
from playwright.sync_api import expect

from proposals.models import Message, MessageThread
from reviews.models import Panel
from tests.factories import StaffFactory, UserFactory
from tests.funding.factories import award_factory, make_panel_officer
from tests.pdfs import pdf_bytes

from .helpers import journey_context, serious_accessibility_violations, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 900}
SIZES = {"phone": PHONE, "desktop": DESKTOP}
WORDS = {
    "fr": {"open": "Ouvrir les messages", "text": "Votre message", "pdf": "Joindre un PDF (facultatif)",
           "send": "Envoyer le message", "sent": "Votre message a été envoyé.", "refused": "page web (HTML)",
           "unread_one": "1 non lu", "read_new": "Lire les nouveaux messages", "new": "Nouveau",
           "dashboard_unread": "1 message non lu", "question": "La lettre signée arrive lundi : puis-je la joindre ici ?",
           "answer": "Oui, joignez-la ici ; merci."},
    "en": {"open": "Open the messages", "text": "Your message", "pdf": "Attach a PDF (optional)",
           "send": "Send the message", "sent": "Your message was sent.", "refused": "web page (HTML)",
           "unread_one": "1 unread", "read_new": "Read the new messages", "new": "New",
           "dashboard_unread": "1 unread message", "question": "The signed letter comes on Monday: may I attach it here?",
           "answer": "Yes, attach it here; thank you."},
}
SHOTS = Path(os.environ.get("SCREENSHOTS_DIR") or tempfile.gettempdir()) / "messages"


@pytest.fixture(autouse=True)
def _shots_dir():
    SHOTS.mkdir(parents=True, exist_ok=True)


def _fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


@pytest.mark.parametrize(("language", "size"), [("fr", "phone"), ("en", "desktop")])
def test_the_pi_writes_with_a_pdf_the_officer_answers_the_pi_reads(live_server, browser, language, size, tmp_path):
    w, base = WORDS[language], live_server.url
    pi = UserFactory(email="paula@cnrs.example.fr", full_name="Paula Investigator", language=language)
    award = award_factory(pi=pi)
    proposal = award.proposal
    officer = make_panel_officer(award, UserFactory(email="olga@cnrs.example.fr", full_name="Olga Officer",
                                                    language=language))
    panel = Panel.objects.get(officers=officer)
    fake, real = tmp_path / "fake.pdf", tmp_path / "lettre signée.pdf"
    fake.write_bytes(b"<html>not a pdf</html>")
    real.write_bytes(pdf_bytes(pages=2))

    # The PI writes from the proposal's page; a fake PDF is refused and the text stays.
    context, page, errors = journey_context(browser, language, SIZES[size])
    sign_in(page, base, pi.email)
    page.goto(f"{base}/proposals/{proposal.pk}/")
    page.get_by_role("link", name=w["open"]).click()
    assert serious_accessibility_violations(page) == []
    page.get_by_label(w["text"]).fill(w["question"])
    page.get_by_label(w["pdf"]).set_input_files(str(fake))
    page.get_by_role("button", name=w["send"]).click()
    expect(page.locator("#field-attachment")).to_contain_text(w["refused"])
    expect(page.get_by_label(w["text"])).to_have_value(w["question"])
    assert Message.objects.count() == 0
    assert serious_accessibility_violations(page) == []
    page.get_by_label(w["pdf"]).set_input_files(str(real))
    page.get_by_role("button", name=w["send"]).click()
    expect(page.locator(".messages")).to_contain_text(w["sent"])
    expect(page.locator(".conversation")).to_contain_text(w["question"])
    expect(page.locator(".conversation")).to_contain_text("lettre signée.pdf")
    assert _fits(page)
    page.screenshot(path=f"{SHOTS}/pi-{language}-{size}-sent.png", full_page=True)

    # The officer sees one unread message on the panel's page, reads it and answers.
    officer_context, officer_page, officer_errors = journey_context(browser, language, SIZES[size])
    sign_in(officer_page, base, officer.email, code=True)
    officer_page.goto(f"{base}/panels/{panel.pk}/proposals/{proposal.pk}/")
    expect(officer_page.locator("#messages-proposal")).to_contain_text(w["unread_one"])
    officer_page.locator("#messages-proposal").get_by_role("link", name=w["read_new"]).click()
    expect(officer_page.locator(".conversation-message.is-new")).to_contain_text(w["question"])
    assert serious_accessibility_violations(officer_page) == []
    officer_page.get_by_label(w["text"]).fill(w["answer"])
    officer_page.get_by_role("button", name=w["send"]).click()
    expect(officer_page.locator(".messages")).to_contain_text(w["sent"])
    assert _fits(officer_page)
    officer_page.screenshot(path=f"{SHOTS}/officer-{language}-{size}-answered.png", full_page=True)
    officer_context.close()

    # The PI sees the unread count on "My proposals", reads the answer marked new; the marker then goes.
    page.goto(f"{base}/dashboard/")
    page.get_by_role("link", name=w["dashboard_unread"]).click()
    expect(page.locator(".conversation-message.is-new")).to_contain_text(w["answer"])
    expect(page.locator(".conversation-message.is-new")).to_contain_text(w["new"])
    page.screenshot(path=f"{SHOTS}/pi-{language}-{size}-answer.png", full_page=True)
    page.reload()
    expect(page.locator(".conversation-message.is-new")).to_have_count(0)
    page.goto(f"{base}/dashboard/")
    expect(page.get_by_role("link", name=w["dashboard_unread"])).to_have_count(0)
    context.close()
    assert [e for e in errors + officer_errors if e.startswith("CSP violation")] == []


def test_staff_find_the_waiting_conversation_in_the_back_office_and_close_it(live_server, browser):
    from django.utils import timezone  # noqa: PLC0415 -- beside its one use

    from reviews.domain.messages import message_post  # noqa: PLC0415

    pi = UserFactory(email="paula@cnrs.example.fr", language="en")
    award = award_factory(pi=pi)
    message_post(proposal_id=award.proposal_id, topic="award", user=pi, text="May we move the May mission to June?",
                 now=timezone.now())
    StaffFactory(email="nadia@cnrs.example.fr", language="en")
    context, page, errors = journey_context(browser, "en", DESKTOP)
    sign_in(page, live_server.url, "nadia@cnrs.example.fr", code=True)
    page.goto(f"{live_server.url}/admin/proposals/messagethread/?status=waiting")
    page.get_by_role("link", name=award.proposal.reference).click()
    expect(page.locator(".conversation")).to_contain_text("May we move the May mission to June?")
    assert serious_accessibility_violations(page) == []
    page.get_by_role("button", name="Close the conversation").click()
    expect(page.locator(".messages")).to_contain_text("The conversation is closed.")
    assert MessageThread.objects.get().closed_at is not None
    page.screenshot(path=f"{SHOTS}/staff-en-desktop-closed.png", full_page=True)
    context.close()
    assert [e for e in errors if e.startswith("CSP violation")] == []
