"""The officer computes the affinities of their panel in a real browser and uses them: on the assignments page
the button queues the computation, the card says it is under way and follows it (htmx polling, no reload, nothing
refused by the Content-Security-Policy) until it says how many proposals match; then the proposal's page lists
its best-matching reviewers — the oceanographers, with the words that matched, the reviewer in conflict
listed as such without a button — and "Assign" invites the oceanographer. In French and in English, on a desktop and
on a phone, with axe on each state; screenshots in /tmp/affinity/.

The test is the worker: the request's commit queues the task (captured here instead of a broker), and the test
runs the real task in a thread once the page shows the computation under way."""

import tempfile
import threading
from pathlib import Path

import pytest
from celery import current_app
from django.db import connection
from playwright.sync_api import expect

from calls.models import Institute
from proposals.models import Proposal
from reviews.domain.affinities import COMPUTE_TASK
from reviews.models import Assignment, Conflict, Panel, Publication, Reviewer
from reviews.tasks import compute_affinities
from tests.factories import CallFactory, ProposalFactory, UnitFactory, UserFactory, activate_totp

from .conftest import CSP_REFUSALS
from .helpers import serious_accessibility_violations, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path(tempfile.gettempdir()) / "affinity"
SIZES = {"desktop": {"width": 1366, "height": 900}, "phone": {"width": 390, "height": 844}}
WORDS = {
    "fr": {"compute": "Calculer les affinités", "under_way": "Calcul en cours en arrière-plan",
           "done": "1\u00a0proposition a des expert·es proches dans le vivier.", "section": "Expert·es les plus proches",
           "assign": "Affecter", "conflict": "conflit d'intérêts"},
    "en": {"compute": "Compute affinities", "under_way": "Being computed in the background",
           "done": "1 proposal matches reviewers of the pool.", "section": "Best-matching reviewers",
           "assign": "Assign", "conflict": "conflict of interest"},
}


@pytest.fixture
def panel_with_texts():
    institute = Institute.objects.create(code="INEE", legal_name="Institut écologie et environnement",
                                         usage_name="CNRS Écologie & Environnement")
    call = CallFactory()
    panel = Panel.objects.create(call=call, institute=institute, reviews_per_proposal=2)
    proposal = ProposalFactory(
        call=call, complete=True, unit=UnitFactory(main_institute=institute), acronym="OCEAN",
        title="L'acidification des océans et les récifs coralliens",
        abstract="Nous étudions comment l'acidification des océans modifie la calcification des coraux.",
        keywords="océan, acidification, corail")
    Proposal.objects.filter(pk=proposal.pk).update(state="eligible")
    people = {}
    for key, name, keywords, publication in (
        ("marine", "Marine Mer", "ocean acidification, coral reefs",
         ("Ocean acidification reduces coral calcification", "Coral reefs under ocean acidification.")),
        ("carla", "Carla Corail", "acidification des océans",
         ("Les coraux face à l'acidification", "Mesures de l'acidification des océans sur les récifs.")),
        ("hugo", "Hugo Histoire", "droit canonique médiéval", ("Le droit canonique", "Manuscrits du douzième siècle.")),
    ):
        user = UserFactory(email=f"{key}@lab.example.org", full_name=name)
        Publication.objects.create(user=user, source="hal_bibtex", key=key, title=publication[0],
                                   abstract=publication[1], imported_at=proposal.created_at)
        people[key] = Reviewer.objects.create(user=user, institute=institute, keywords=keywords)
    Conflict.objects.create(proposal=proposal, reviewer=people["carla"], source="declared", cause="declared",
                            created_at=proposal.created_at)
    return panel, proposal, people


@pytest.fixture
def worker(monkeypatch):
    queued = []
    monkeypatch.setattr(current_app.tasks[COMPUTE_TASK], "apply_async", lambda args: queued.append(args[0]))
    threads = []

    def run(panel_id):
        try:
            compute_affinities(panel_id)
        finally:
            connection.close()

    def start():
        thread = threading.Thread(target=run, args=(queued[0],), daemon=True)
        thread.start()
        threads.append(thread)

    yield type("Worker", (), {"queued": queued, "start": staticmethod(start)})
    for thread in threads:
        thread.join(timeout=60)


@pytest.mark.parametrize("language", ["fr", "en"])
@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_the_officer_computes_affinities_and_assigns_a_best_match(
        live_server, browser, panel_with_texts, worker, language, size):
    panel, proposal, people = panel_with_texts
    officer = UserFactory(email="olga@example.org", full_name="Olga Officer", language=language)
    activate_totp(officer)
    panel.officers.add(officer)
    words = WORDS[language]
    base = live_server.url
    context = browser.new_context(locale="fr-FR" if language == "fr" else "en-GB", timezone_id="Europe/Paris",
                                  viewport=SIZES[size])
    context.set_default_timeout(15_000)
    context.add_init_script(CSP_REFUSALS)
    page = context.new_page()
    errors = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    SHOTS.mkdir(parents=True, exist_ok=True)
    sign_in(page, base, "olga@example.org", code=True)
    page.goto(f"{base}/panels/{panel.pk}/assignments/")

    card = page.locator("#affinity")
    card.get_by_role("button", name=words["compute"]).click()
    status = page.locator("#affinity-status")
    expect(status).to_contain_text(words["under_way"])
    expect(page.locator("#affinity").get_by_role("button", name=words["compute"])).to_have_count(0)
    assert worker.queued == [panel.pk]
    assert serious_accessibility_violations(page) == []
    page.screenshot(path=str(SHOTS / f"assignments-under-way-{language}-{size}.png"), full_page=True)

    worker.start()  # the card polls: no reload from here on
    expect(page.locator("#affinity-status")).to_contain_text(words["done"])
    expect(page.locator("#affinity").get_by_role("button", name=words["compute"])).to_be_visible()
    assert serious_accessibility_violations(page) == []
    page.screenshot(path=str(SHOTS / f"assignments-computed-{language}-{size}.png"), full_page=True)

    page.goto(f"{base}/panels/{panel.pk}/proposals/{proposal.pk}/")
    section = page.locator("#best-matches")
    expect(section.get_by_role("heading", name=words["section"])).to_be_visible()
    rows = section.locator("tbody tr")
    expect(rows).to_have_count(2)  # the historian shares no word with it
    marine, carla = rows.filter(has_text="Marine Mer"), rows.filter(has_text="Carla Corail")
    expect(marine).to_contain_text("acidification")
    expect(carla).to_contain_text(words["conflict"])
    expect(carla.get_by_role("button")).to_have_count(0)  # listed, never offered
    assert serious_accessibility_violations(page) == []
    section.screenshot(path=str(SHOTS / f"best-matches-{language}-{size}.png"))
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    marine.get_by_role("button", name=words["assign"]).click()
    expect(page.locator(".messages")).to_contain_text("Marine Mer")
    expect(page.locator("#best-matches tbody tr").filter(has_text="Marine Mer").get_by_role("button")).to_have_count(0)
    assert Assignment.objects.filter(proposal=proposal, reviewer=people["marine"]).count() == 1
    assert [error for error in errors if error.startswith("CSP violation")] == []
    context.close()
