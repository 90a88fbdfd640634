"""Bids and suggested colleagues in a real browser (issue #20).

In French on a phone and in English on a desktop: the officer opens bidding; a reviewer of the pool follows the link on their list of
reviews, marks three proposals — one eagerly, one rather not, one as a conflict — is asked the conflict's
reason when saving without it (the choices stay), gives it, and sees the conflict final; the officer sees the
counts. In English: a reviewer declines an invitation and suggests a colleague; the officer adds the colleague
to the pool in one click. axe on each page, nothing cut off at phone width, nothing refused by the CSP."""

import os
import tempfile
from pathlib import Path

import pytest
from playwright.sync_api import expect

from calls.models import Institute
from iea.notifications.models import Notification
from reviews.models import AssignmentState, Bid, Conflict, Reviewer, ReviewerSuggestion
from tests.factories import CallFactory, UnitFactory, UserFactory, activate_totp
from tests.reviews.factories import AssignmentFactory, PanelFactory, ReviewerFactory, eligible_proposal

from .helpers import journey_context as _context
from .helpers import serious_accessibility_violations, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 900}
SIZES = {"phone": PHONE, "desktop": DESKTOP}
WORDS = {
    "fr": {"open": "Ouvrir les souhaits", "opened": "Les souhaits sont ouverts\u00a0: le vivier est invité",
           "none_marked": "Propositions marquées\u00a0: 0 sur 3.", "link": "Indiquer les propositions que vous évalueriez",
           "title": "Quelles propositions évalueriez-vous\u00a0?", "eager": "Très volontiers", "rather_not": "Plutôt pas",
           "conflict": "Conflit d'intérêts", "save": "Enregistrer mes choix",
           "explain": "Expliquez chaque conflit d'intérêts\u00a0: ", "saved": "3 choix enregistrés.",
           "all_marked": "Propositions marquées\u00a0: 3 sur 3", "final": "Déclaré ou détecté\u00a0: définitif.",
           "reason": "J'ai codirigé la thèse du porteur."},
    "en": {"open": "Open bidding", "opened": "Bidding is open: the pool is invited by e-mail",
           "none_marked": "Proposals marked: 0 of 3.", "link": "Say which proposals you would review",
           "title": "Which proposals would you review?", "eager": "Eager", "rather_not": "Rather not",
           "conflict": "Conflict of interest", "save": "Save my choices", "explain": "Explain each conflict of interest: ",
           "saved": "3 choices saved.", "all_marked": "Proposals marked: 3 of 3", "final": "Declared or found: final.",
           "reason": "I co-supervised the PI's thesis."},
}
# Screenshots to look at (FR/EN, phone/desktop): $SCREENSHOTS_DIR/bids, else the system temporary directory.
SHOTS = Path(os.environ.get("SCREENSHOTS_DIR") or tempfile.gettempdir()) / "bids"


@pytest.fixture
def panel_world():
    institute = Institute.objects.create(code="INEE", legal_name="Institut écologie et environnement",
                                         usage_name="CNRS Écologie & Environnement")
    call = CallFactory()
    panel = PanelFactory(call=call, institute=institute)
    officer = UserFactory(email="olga@example.org", full_name="Olga Officer", language="fr")
    activate_totp(officer)
    panel.officers.add(officer)
    unit = UnitFactory(main_institute=institute)
    proposals = [eligible_proposal(call=call, unit=unit, acronym=acronym, title=title) for acronym, title in (
        ("BEES", "Pollinators under drought"), ("REEF", "Coral reefs and heat waves"),
        ("DUNE", "Coastal dunes after storms"))]
    return {"panel": panel, "officer": officer, "proposals": proposals, "institute": institute}


@pytest.fixture(autouse=True)
def _shots_dir():
    SHOTS.mkdir(parents=True, exist_ok=True)


def _fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


@pytest.mark.parametrize(("language", "size"), [("fr", "phone"), ("en", "desktop")])
def test_a_reviewer_bids_on_three_proposals_including_a_conflict(live_server, browser, panel_world, language, size):
    w = WORDS[language]
    type(panel_world["officer"]).objects.filter(pk=panel_world["officer"].pk).update(language=language)
    base, panel = live_server.url, panel_world["panel"]
    bees, reef, dune = panel_world["proposals"]
    reviewer = ReviewerFactory(institute=panel_world["institute"],
                               user=UserFactory(email="rita@lab.example.org", full_name="Rita Reviewer", language=language))

    # The officer opens bidding.
    officer_context, officer_page, errors = _context(browser, language, SIZES[size])
    sign_in(officer_page, base, "olga@example.org", code=True)  # kept signed in: a TOTP code is used once
    officer_page.goto(f"{base}/panels/{panel.pk}/assignments/")
    officer_page.get_by_role("button", name=w["open"]).click()
    expect(officer_page.locator(".messages")).to_contain_text(w["opened"])
    assert Notification.objects.filter(kind="bidding_invitation", email="rita@lab.example.org", language=language).count() == 1
    assert _fits(officer_page)

    # The reviewer marks three proposals.
    context, page, reviewer_errors = _context(browser, language, SIZES[size])
    sign_in(page, base, "rita@lab.example.org", code=True)
    page.goto(f"{base}/review/")
    expect(page.locator(f"#bidding-{panel.pk}")).to_contain_text(w["none_marked"])
    page.get_by_role("link", name=w["link"]).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(w["title"])
    expect(page.locator("#bids-form input[type=radio]:checked")).to_have_count(0)  # no bid by default
    expect(page.locator("main")).not_to_contain_text(bees.pi.get_full_name())
    assert serious_accessibility_violations(page) == []

    page.locator(f"#proposal-{bees.pk}").get_by_label(w["eager"], exact=True).check()
    page.locator(f"#proposal-{reef.pk}").get_by_label(w["rather_not"], exact=True).check()
    reason = page.locator(f"#proposal-{dune.pk} textarea")
    expect(reason).to_be_hidden()  # asked only when "conflict" is chosen
    page.locator(f"#proposal-{dune.pk}").get_by_label(w["conflict"], exact=True).check()
    expect(reason).to_be_visible()
    page.screenshot(path=f"{SHOTS}/bids-{language}-{size}-choosing.png", full_page=True)
    page.get_by_role("button", name=w["save"]).click()

    # Without the reason: refused, nothing saved, the choices are still there.
    expect(page.locator(".messages")).to_contain_text(w["explain"] + f"{dune.reference}.")
    expect(page.locator(f"#proposal-{bees.pk}").get_by_label(w["eager"], exact=True)).to_be_checked()
    expect(page.locator(f"#proposal-{dune.pk}").get_by_label(w["conflict"], exact=True)).to_be_checked()
    assert Bid.objects.count() == 0
    assert serious_accessibility_violations(page) == []
    page.locator(f"#proposal-{dune.pk} textarea").fill(w["reason"])
    page.get_by_role("button", name=w["save"]).click()

    expect(page.locator(".messages")).to_contain_text(w["saved"])
    expect(page.locator("#bids-progress")).to_have_text(w["all_marked"])
    expect(page.locator(f"#proposal-{dune.pk}")).to_contain_text(w["final"])
    expect(page.locator(f"#proposal-{dune.pk} input[type=radio]")).to_have_count(0)
    expect(page.locator(f"#proposal-{bees.pk}").get_by_label(w["eager"], exact=True)).to_be_checked()
    assert sorted(Bid.objects.values_list("proposal__acronym", "value")) == [
        ("BEES", "eager"), ("DUNE", "conflict"), ("REEF", "rather_not")]
    assert list(Conflict.objects.values_list("proposal_id", "reviewer_id", "source", "detail")) == [
        (dune.pk, reviewer.pk, "declared", w["reason"])]
    assert _fits(page)
    page.screenshot(path=f"{SHOTS}/bids-{language}-{size}-saved.png", full_page=True)
    context.close()

    # The officer sees the counts, and who bid what on a proposal.
    page = officer_page
    officer_page.set_viewport_size(DESKTOP)
    page.goto(f"{base}/panels/{panel.pk}/assignments/")
    expect(page.locator("#bid-counts")).to_contain_text(f"1 {w['eager']}")
    expect(page.locator("#bid-counts")).to_contain_text(f"1 {w['conflict']}")
    assert serious_accessibility_violations(page) == []
    page.goto(f"{base}/panels/{panel.pk}/proposals/{bees.pk}/")
    expect(page.locator("#proposal-bids")).to_contain_text("Rita Reviewer")
    expect(page.locator("#proposal-bids")).to_contain_text(w["eager"])
    page.screenshot(path=f"{SHOTS}/bids-{language}-officer-proposal.png", full_page=True)
    officer_context.close()
    assert [e for e in errors + reviewer_errors if e.startswith("CSP violation")] == []


def test_a_reviewer_declines_with_a_colleague_whom_the_officer_adds_in_one_click(live_server, browser, panel_world):
    base, panel = live_server.url, panel_world["panel"]
    bees = panel_world["proposals"][0]
    reviewer = ReviewerFactory(institute=panel_world["institute"],
                               user=UserFactory(email="rita@lab.example.org", full_name="Rita Reviewer", language="en"))
    assignment = AssignmentFactory(proposal=bees, panel=panel, reviewer=reviewer, state=AssignmentState.INVITED)
    type(panel_world["officer"]).objects.filter(pk=panel_world["officer"].pk).update(language="en")

    context, page, errors = _context(browser, "en", PHONE)
    sign_in(page, base, "rita@lab.example.org", code=True)
    page.goto(f"{base}/review/{assignment.pk}/invitation/")
    page.get_by_label("Why do you decline?").fill("On leave until spring.")
    page.get_by_label("Colleague's name").fill("Ada Lovelace")
    page.get_by_label("Colleague's e-mail").fill("rita@lab.example.org")  # themself: refused, nothing lost
    page.get_by_label("Why them?").fill("She works on pollinators.")
    page.get_by_role("button", name="Decline").click()
    expect(page.locator("#field-decline-suggest_email")).to_contain_text("Suggest someone other than yourself.")
    expect(page.get_by_label("Why do you decline?")).to_have_value("On leave until spring.")
    assert serious_accessibility_violations(page) == []
    page.get_by_label("Colleague's e-mail").fill("ada@bees.example.org")
    page.get_by_role("button", name="Decline").click()
    expect(page.locator(".messages")).to_contain_text("You declined to review")
    assert _fits(page)
    context.close()

    context, page, officer_errors = _context(browser, "en", DESKTOP)
    sign_in(page, base, "olga@example.org", code=True)
    page.goto(f"{base}/panels/{panel.pk}/reviewers/")
    card = page.locator("#suggestions")
    expect(card).to_contain_text("Rita Reviewer suggests Ada Lovelace (ada@bees.example.org).")
    expect(card).to_contain_text("She works on pollinators.")
    assert serious_accessibility_violations(page) == []
    page.screenshot(path=f"{SHOTS}/suggestions-en-desktop.png", full_page=True)
    card.get_by_role("button", name="Add to the pool").click()
    expect(page.locator(".messages")).to_contain_text("ada@bees.example.org is in the pool.")
    expect(page.locator("#suggestions")).to_have_count(0)
    expect(page.locator("#pool")).to_contain_text("ada@bees.example.org")
    added = Reviewer.objects.get(user__email="ada@bees.example.org")
    assert (added.institute_id, added.active, added.user.full_name) == (panel.institute_id, True, "Ada Lovelace")
    assert ReviewerSuggestion.objects.get().added_reviewer_id == added.pk
    context.close()
    assert [e for e in errors + officer_errors if e.startswith("CSP violation")] == []
