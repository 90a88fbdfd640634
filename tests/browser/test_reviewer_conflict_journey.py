"""A reviewer who accepted finds a conflict while writing the review (issue #15): they declare it from the
review page with an explanation, in French, on a phone; then the link of the invitation mail explains why
the review no longer opens, and leads back to their list."""

import pytest
from playwright.sync_api import expect

from reviews.models import AssignmentState, Conflict
from tests.factories import UserFactory, activate_totp
from tests.reviews.factories import AssignmentFactory, ReviewerFactory

from .helpers import serious_accessibility_violations, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_reviewer_declares_a_conflict_from_the_review_page_then_the_old_link_says_why(live_server, browser):
    assignment = AssignmentFactory(reviewer=ReviewerFactory(user=UserFactory(email="rev@example.org",
                                                                             full_name="Rita Reviewer")))
    officer = UserFactory(email="olga@example.org", full_name="Olga Officer", language="fr")
    activate_totp(officer)
    assignment.panel.officers.add(officer)
    base = live_server.url
    context = browser.new_context(locale="fr-FR", timezone_id="Europe/Paris", viewport={"width": 390, "height": 844})
    context.set_default_timeout(15_000)
    page = context.new_page()
    sign_in(page, base, "rev@example.org", code=True)
    review_url = f"{base}/review/{assignment.pk}/review/"
    page.goto(review_url)
    expect(page.get_by_role("heading", name="Conflit d'intérêts")).to_be_visible()

    # Without an explanation nothing happens, and the page says what is missing.
    page.get_by_role("button", name="Déclarer un conflit d'intérêts").click()
    expect(page.locator(".messages")).to_contain_text("Aucun conflit déclaré")
    expect(page.locator("#declare-conflict")).to_contain_text("Expliquez votre conflit d'intérêts")
    assert Conflict.objects.count() == 0

    page.get_by_label("Votre conflit d'intérêts").fill("J'ai co-signé un article avec le porteur l'an dernier.")
    page.get_by_role("button", name="Déclarer un conflit d'intérêts").click()
    page.wait_for_url(f"{base}/review/")
    expect(page.locator(".messages")).to_contain_text("Vous avez déclaré un conflit d'intérêts")
    assignment.refresh_from_db()
    assert assignment.state == AssignmentState.WITHDRAWN

    # The link of the invitation mail, followed later.
    response = page.goto(f"{base}/review/{assignment.pk}/invitation/")
    assert response.status == 410
    expect(page.get_by_role("heading", level=1)).to_contain_text("Cette évaluation ne vous est plus ouverte")
    expect(page.locator("main")).to_contain_text("Vous avez déclaré un conflit d'intérêts avec cette proposition le ")
    assert serious_accessibility_violations(page) == []
    page.locator("main").get_by_role("link", name="Mes évaluations").click()
    page.wait_for_url(f"{base}/review/")
    context.close()
