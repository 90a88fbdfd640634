"""Guidance in a real browser (#15): each role lands on its own work after signing in and sees what to do
now; a PI whose year-1 report is overdue is told so on the dashboard, and the funded proposal's page leads
to the award instead of the submission checklist; editing a submitted proposal shows at once that the
change is not submitted."""

import datetime as dt
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from proposals import domain as proposals_domain
from proposals.letters import check_pdf
from tests.factories import CallFactory, ProposalFactory, UserFactory
from tests.funding.factories import award_factory, make_panel_officer, make_unit_manager
from tests.pdfs import pdf_upload
from tests.reviews.factories import AssignmentFactory, ReviewerFactory, eligible_proposal

from .helpers import serious_accessibility_violations, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"


def test_pi_with_an_overdue_report_sees_it_and_reaches_the_award(live_server, page):
    base = live_server.url
    award = award_factory(acronym="LATE", now=timezone.now() - dt.timedelta(days=420))
    sign_in(page, base, award.proposal.pi.email)
    expect(page).to_have_url(f"{base}/dashboard/")
    overdue = page.locator("#next-actions [data-kind=report_overdue]")
    expect(overdue).to_contain_text("The year 1 report of “LATE” is overdue: write it and submit it.")
    expect(overdue.locator(".badge")).to_have_text("overdue")
    expect(page.locator("#next-actions")).not_to_contain_text("Nothing to do now")
    assert serious_accessibility_violations(page) == []

    # The funded proposal: where it stands and its award, no submission checklist.
    page.locator("#my-proposals a", has_text="LATE").click()
    expect(page.locator("#standing")).to_contain_text("Selected for funding.")
    expect(page.locator("#checklist")).to_have_count(0)
    expect(page.get_by_text("The call is open")).to_have_count(0)
    assert serious_accessibility_violations(page) == []
    page.locator("#award-link").click()
    expect(page).to_have_url(f"{base}/awards/{award.pk}/")

    # The report from the dashboard, on a phone.
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{base}/dashboard/")
    link = page.locator("#next-actions [data-kind=report_overdue] a")
    box = link.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390
    link.click()
    expect(page).to_have_url(f"{base}/awards/{award.pk}/reports/year1/")


def test_reviewer_lands_on_their_reviews_with_what_is_due(live_server, page):
    base = live_server.url
    reviewer = ReviewerFactory()
    AssignmentFactory(reviewer=reviewer, proposal=eligible_proposal(acronym="OCEAN"),
                      due_at=timezone.now() + dt.timedelta(days=3))
    sign_in(page, base, reviewer.user.email, code=True)
    expect(page).to_have_url(f"{base}/review/")
    expect(page.locator("#next-actions [data-kind=review_due]")).to_contain_text("Submit your review of “OCEAN”.")
    expect(page.locator("#next-actions [data-kind=review_due] .badge")).to_have_text("due soon")


def test_officer_lands_on_their_panels(live_server, page):
    base = live_server.url
    proposal = eligible_proposal()
    officer = make_panel_officer(None, UserFactory())
    from reviews.models import Panel

    Panel.objects.get_or_create(call=proposal.call, institute=proposal.institute)[0].officers.add(officer)
    sign_in(page, base, officer.email, code=True)
    expect(page).to_have_url(f"{base}/panels/")
    expect(page.locator("#next-actions [data-kind=panel_short_of_reviewers]")).to_contain_text(
        "1 proposal is short of reviewers.")


def test_unit_manager_lands_on_the_units_awards(live_server, page):
    base = live_server.url
    award = award_factory(acronym="UNIT")
    manager = make_unit_manager(award)
    award.tranches.filter(number=1).update(state="released", decided_at=timezone.now())
    sign_in(page, base, manager.email)
    expect(page).to_have_url(f"{base}/awards/unit/")
    expect(page.locator("#next-actions [data-kind=tranche_receipt]")).to_contain_text(
        "Confirm that tranche 1 of “UNIT” was received.")


def test_editing_a_submitted_proposal_shows_the_change_is_not_submitted(live_server, page):
    base = live_server.url
    proposal = ProposalFactory(call=CallFactory(), complete=True)
    now = timezone.now()
    proposals_domain.letter_attach(proposal_id=proposal.pk, pdf=check_pdf(pdf_upload()), now=now, user=proposal.pi)
    proposals_domain.proposal_submit(proposal_id=proposal.pk, user=proposal.pi, now=now)
    sign_in(page, base, proposal.pi.email)
    page.goto(f"{base}/proposals/{proposal.pk}/edit/")
    status = page.locator("#submission-status")
    expect(status).to_contain_text("This proposal is submitted.")
    page.fill("#id_title", "Coastal erosion under changing storms, revised")
    expect(page.locator("#saved-indicator")).to_contain_text("Saved at")
    expect(status).to_contain_text("You changed the proposal after submitting it. Submit again before the deadline")
    expect(status.locator("[data-status=changed]")).to_have_class(re.compile("message-warning"))
    assert serious_accessibility_violations(page) == []
