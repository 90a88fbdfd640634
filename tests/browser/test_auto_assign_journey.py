"""The officer starts the automatic assignment of their panel in a real browser and follows it: the page says
it waits for a worker, then shows each step with a progress bar as the worker reports it (htmx polling, no
reload, nothing refused by the Content-Security-Policy), then the result — what was assigned and the proposal
it could not cover, with the reason — which is still there after leaving and coming back. In French and in
English, on a desktop and on a phone, with axe on each state.

The test is the worker: the start's commit queues the task (captured here instead of a broker), and the test
runs the real task in a thread, held just after the "choosing the reviewers" step is written, so that the page
can be seen in the middle of the run."""

import threading

import pytest
from celery import current_app
from django.db import connection
from django.utils import translation
from playwright.sync_api import expect

import reviews.domain.assignment_job as job_module
from calls.models import Institute
from proposals.models import Proposal
from reviews.domain.assignment_job import RUN_TASK
from reviews.domain.auto_assign import SOLVING
from reviews.models import Assignment, AssignmentJob, Panel, Reviewer
from reviews.tasks import run_assignment_job
from tests.factories import CallFactory, ProposalFactory, UnitFactory, UserFactory, activate_totp

from .conftest import CSP_REFUSALS
from .helpers import serious_accessibility_violations, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SIZES = {"desktop": {"width": 1366, "height": 900}, "phone": {"width": 390, "height": 844}}
WORDS = {
    "fr": {"button": "Affecter automatiquement", "started": "L'affectation automatique est lancée.",
           "queued": "En attente de démarrage\u00a0: 0\u00a0% effectués.",
           "solving": "Choix des expert·es\u00a0: 40\u00a0% effectués.", "done": "3 affectations créées.",
           "tab": "Tableau du comité", "back": "Affectations"},
    "en": {"button": "Assign automatically", "started": "The automatic assignment has started.",
           "queued": "Waiting for a worker to start it: 0% done.", "solving": "Choosing the reviewers: 40% done.",
           "done": "3 assignments created.", "tab": "Panel table", "back": "Assignments"},
}


@pytest.fixture
def panel_to_assign():
    """Two eligible proposals needing 2 reviewers each, three reviewers: two of them in the first proposal's
    unit, so that it can have one reviewer only."""
    institute = Institute.objects.create(code="INEE", legal_name="Institut écologie et environnement",
                                         usage_name="CNRS Écologie & Environnement")
    call = CallFactory()
    panel = Panel.objects.create(call=call, institute=institute, reviews_per_proposal=2)
    near, far = UnitFactory(main_institute=institute), UnitFactory(main_institute=institute)
    proposals = []
    for unit, acronym in ((near, "NEAR"), (far, "FAR")):
        proposal = ProposalFactory(call=call, complete=True, unit=unit, acronym=acronym)
        Proposal.objects.filter(pk=proposal.pk).update(state="eligible")
        proposals.append(proposal)
    for n, unit in enumerate((near, near, None)):
        Reviewer.objects.create(user=UserFactory(email=f"rev{n}@lab.example.org", full_name=f"Reviewer {n}"),
                                institute=institute, unit=unit)
    return panel, proposals


@pytest.fixture
def worker(monkeypatch):
    """Captures what the start queues, and runs it as a worker would, held after the "solving" step."""
    queued, hold = [], threading.Event()
    monkeypatch.setattr(current_app.tasks[RUN_TASK], "apply_async", lambda args, task_id: queued.append(args[0]))
    real_report = job_module._report

    def report_then_hold(job_id, claim, clock, phase):
        real_report(job_id, claim, clock, phase)
        if phase == SOLVING:
            assert hold.wait(timeout=60), "the test never let the worker go on"

    monkeypatch.setattr(job_module, "_report", report_then_hold)

    def run(job_id):
        try:
            run_assignment_job(job_id)
        finally:
            connection.close()

    threads = []

    def start():
        thread = threading.Thread(target=run, args=(queued[0],), daemon=True)
        thread.start()
        threads.append(thread)

    yield type("Worker", (), {"queued": queued, "start": staticmethod(start), "release": staticmethod(hold.set)})
    hold.set()
    for thread in threads:
        thread.join(timeout=60)


@pytest.mark.parametrize("language", ["fr", "en"])
@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_the_officer_starts_the_automatic_assignment_and_follows_it_to_its_result(
        live_server, browser, panel_to_assign, worker, language, size):
    panel, (near, far) = panel_to_assign
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
    sign_in(page, base, "olga@example.org", code=True)
    assignments_url = f"{base}/panels/{panel.pk}/assignments/"
    page.goto(assignments_url)

    page.get_by_role("button", name=words["button"]).click()
    expect(page.locator(".messages")).to_contain_text(words["started"])
    status = page.locator("#auto-status")
    expect(status).to_have_text(words["queued"])
    assert worker.queued == [AssignmentJob.objects.get().pk]
    expect(page.get_by_role("button", name=words["button"])).to_have_count(0)  # one run at a time

    worker.start()  # the page polls: no reload from here on
    expect(status).to_have_text(words["solving"])
    expect(page.locator("#auto-body progress")).to_have_attribute("value", "40")
    assert serious_accessibility_violations(page) == []

    worker.release()
    expect(status).to_contain_text(words["done"])
    expect(page.locator("#auto-body progress")).to_have_count(0)
    with translation.override(language):
        reason = translation.ngettext(
            "only %(count)d reviewer of the pool is free of conflicts with it (needs %(need)d)",
            "only %(count)d reviewers of the pool are free of conflicts with it (needs %(need)d)", 1,
        ) % {"count": 1, "need": 2}
    expect(page.locator("#uncovered")).to_have_text(f"{near.reference} — {reason}")
    expect(page.get_by_role("button", name=words["button"])).to_be_visible()
    assert serious_accessibility_violations(page) == []
    assert Assignment.objects.filter(automatic=True).count() == 3
    assert AssignmentJob.objects.get().state == "done"

    # Elsewhere, then back: the result is still there.
    page.get_by_role("link", name=words["tab"]).click()
    page.get_by_role("link", name=words["back"], exact=True).click()
    expect(page.locator("#auto-status")).to_contain_text(words["done"])
    expect(page.locator("#uncovered")).to_contain_text(near.reference)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert [error for error in errors if error.startswith("CSP violation")] == []
    context.close()
