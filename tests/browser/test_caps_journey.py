"""#20 solver, in a real browser. The officer (in French on a desktop, in English on a phone) sets the panel's default maximum of reviews
and one reviewer's own maximum from the pool page, sees who is away there, runs the automatic assignment, and
reads why each assignment was made and why the proposal left short is short. A reviewer (in French and English, on
a phone and a desktop) records the dates they are away. axe on each page; nothing wider than the screen."""

import datetime as dt
import os

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from calls.models import Institute
from proposals.models import Proposal
from reviews.models import Affinity, Assignment, Panel, Reviewer, ReviewerCap, Unavailability
from tests.factories import CallFactory, ProposalFactory, UnitFactory, UserFactory, activate_totp

from .conftest import CSP_REFUSALS
from .helpers import serious_accessibility_violations, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
NBSP = "\u00a0"
SHOTS = os.environ.get("IEA_SCREENSHOTS", "")  # a directory to save the screenshots in, when set


def shot(page, name):
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, f"{name}.png"), full_page=True)


def context_for(browser, language, viewport):
    context = browser.new_context(locale="fr-FR" if language == "fr" else "en-GB", timezone_id="Europe/Paris",
                                  viewport=viewport)
    context.set_default_timeout(15_000)
    context.add_init_script(CSP_REFUSALS)
    return context


SIZES = {"desktop": {"width": 1366, "height": 900}, "phone": {"width": 390, "height": 844}}


OFFICER_WORDS = {
    "fr": {"default": "Maximum d'évaluations par expert·e dans ce comité, par défaut", "save": "Enregistrer",
           "default_set": "chaque expert·e fait au plus 2 évaluations dans ce comité",
           "own": "Maximum d'évaluations pour anna@lab.example.org", "set": "Fixer",
           "own_set": "anna@lab.example.org fait au plus 1 évaluation dans ce comité", "away": "absent·e du ",
           "panel_default": f"défaut du comité{NBSP}: 2", "auto": "Affecter automatiquement",
           "created": "3 affectations créées.",
           "short": f"1 autre expert·e pouvant l'évaluer a atteint le maximum d'évaluations fixé pour lui ou elle{NBSP}; "
                    f"1 autre expert·e est absent·e pendant la période d'évaluation",
           "why": f"Pourquoi{NBSP}: affinité 72{NBSP}% (océan, acidification) · charge 1/1", "full": "charge 2/2"},
    "en": {"default": "Default maximum of reviews per reviewer in this panel", "save": "Save",
           "default_set": "By default, each reviewer takes at most 2 reviews in this panel.",
           "own": "Maximum of reviews for anna@lab.example.org", "set": "Set",
           "own_set": "anna@lab.example.org takes at most 1 review in this panel.", "away": "away ",
           "panel_default": "panel default: 2", "auto": "Assign automatically", "created": "3 assignments created.",
           "short": "the 1 other eligible reviewer is at the maximum of reviews set for them; 1 other reviewer is away "
                    "during the review period",
           "why": "Why: affinity 72 % (océan, acidification) · load 1/1", "full": "load 2/2"},
}


@pytest.mark.parametrize(("language", "size"), [("fr", "desktop"), ("en", "phone")])
def test_the_officer_sets_maximums_runs_the_assignment_and_reads_why(live_server, browser, language, size):
    words = OFFICER_WORDS[language]
    institute = Institute.objects.create(code="INEE", legal_name="Institut écologie et environnement",
                                         usage_name="CNRS Écologie & Environnement")
    call = CallFactory()
    panel = Panel.objects.create(call=call, institute=institute, reviews_per_proposal=2,
                                 review_due_at=timezone.now() + dt.timedelta(days=20))
    unit = UnitFactory(main_institute=institute)
    first, second = (ProposalFactory(call=call, complete=True, unit=unit, acronym=acronym) for acronym in ("ACID", "REEF"))
    Proposal.objects.filter(pk__in=[first.pk, second.pk]).update(state="eligible")
    anna, boris, chen = (Reviewer.objects.create(user=UserFactory(email=f"{name.lower()}@lab.example.org",
                                                                  full_name=f"{name} Reviewer"), institute=institute)
                         for name in ("Anna", "Boris", "Chen"))
    today = timezone.localdate()
    Unavailability.objects.create(user=chen.user, starts_on=today - dt.timedelta(days=2), ends_on=today + dt.timedelta(days=30),
                                  note="Terrain")
    Affinity.objects.create(panel=panel, proposal=first, reviewer=anna, score=720, terms=["océan", "acidification"])
    # Computed and up to date: the run reads them as they are (a stale panel's would be computed again first).
    Panel.objects.filter(pk=panel.pk).update(affinity_computed_at=timezone.now(), affinity_stale=False)
    officer = UserFactory(email="olga@example.org", full_name="Olga Officer", language=language)
    activate_totp(officer)
    panel.officers.add(officer)

    context = context_for(browser, language, SIZES[size])
    page = context.new_page()
    sign_in(page, live_server.url, "olga@example.org", code=True)
    page.goto(f"{live_server.url}/panels/{panel.pk}/reviewers/")
    page.get_by_label(words["default"]).fill("2")
    page.locator("#default-cap").get_by_role("button", name=words["save"]).click()
    expect(page.locator(".messages")).to_contain_text(words["default_set"])
    page.get_by_label(words["own"]).fill("1")
    page.locator(f"#reviewer-{anna.pk}").get_by_role("button", name=words["set"]).click()
    expect(page.locator(".messages")).to_contain_text(words["own_set"])
    expect(page.locator(f"#reviewer-{chen.pk}")).to_contain_text(words["away"])
    expect(page.locator(f"#reviewer-{boris.pk}")).to_contain_text(words["panel_default"])
    shot(page, f"pool-{language}-{size}")
    assert serious_accessibility_violations(page) == []
    assert ReviewerCap.objects.get().max_reviews == 1

    page.goto(f"{live_server.url}/panels/{panel.pk}/assignments/")
    page.get_by_role("button", name=words["auto"]).click()  # the task runs eagerly in the tests
    page.goto(f"{live_server.url}/panels/{panel.pk}/assignments/")
    expect(page.locator("#auto-status")).to_contain_text(words["created"])
    short = second if Assignment.objects.filter(proposal=second).count() == 1 else first
    expect(page.locator("#uncovered")).to_have_text(f"{short.reference} — {words['short']}")
    expect(page.locator(".auto-why").filter(has_text="72")).to_have_text(words["why"])
    expect(page.locator(".auto-why").filter(has_text=words["full"])).to_have_count(2)
    shot(page, f"assignments-{language}-{size}")
    assert serious_accessibility_violations(page) == []
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert sorted(Assignment.objects.values_list("reviewer__user__full_name", flat=True)) == [
        "Anna Reviewer", "Boris Reviewer", "Boris Reviewer"]


WORDS = {
    "en": {"link": "When I am away", "none": "No absence recorded from today on.",
           "note": "Note", "add": "Add",
           "order": "The last day comes before the first one.", "recorded": "Recorded: you are away"},
    "fr": {"link": "Mes absences", "none": "Aucune absence enregistrée à partir d'aujourd'hui.",
           "note": "Note", "add": "Ajouter",
           "order": "Le dernier jour précède le premier.", "recorded": f"C'est enregistré{NBSP}: vous êtes absent·e"},
}


@pytest.mark.parametrize("language", ["en", "fr"])
@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_a_reviewer_records_the_dates_they_are_away(live_server, browser, language, size):
    words = WORDS[language]
    institute = Institute.objects.create(code="INEE", legal_name="Institut écologie et environnement",
                                         usage_name="CNRS Écologie & Environnement")
    user = UserFactory(email="rita@lab.example.org", full_name="Rita Reviewer", language=language)
    activate_totp(user)
    Reviewer.objects.create(user=user, institute=institute)
    start, end = timezone.localdate() + dt.timedelta(days=10), timezone.localdate() + dt.timedelta(days=24)

    context = context_for(browser, language, SIZES[size])
    page = context.new_page()
    sign_in(page, live_server.url, "rita@lab.example.org", code=True)
    page.goto(f"{live_server.url}/review/")
    page.get_by_role("link", name=words["link"]).click()
    expect(page.locator("#periods")).to_have_text(words["none"])
    page.locator("#id_ends_on").fill(start.isoformat())  # the wrong way round first
    page.locator("#id_starts_on").fill(end.isoformat())
    page.get_by_label(words["note"]).fill("Field mission")
    page.get_by_role("button", name=words["add"], exact=True).click()
    expect(page.get_by_role("alert")).to_have_text(words["order"])
    expect(page.get_by_label(words["note"])).to_have_value("Field mission")
    page.locator("#id_starts_on").fill(start.isoformat())
    page.locator("#id_ends_on").fill(end.isoformat())
    page.get_by_role("button", name=words["add"], exact=True).click()
    expect(page.locator(".messages")).to_contain_text(words["recorded"])
    expect(page.locator("#periods")).to_contain_text("Field mission")
    shot(page, f"availability-{language}-{size}")
    assert serious_accessibility_violations(page) == []
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert list(Unavailability.objects.values_list("starts_on", "ends_on", "note")) == [(start, end, "Field mission")]
