"""Peer review in a real browser: a reviewer signs in with a two-factor code, declares a conflict on one
proposal and scores another; the officer recommends and ranks; staff decide and send the decision mails."""


import pytest
from django.core import mail
from playwright.sync_api import expect

from calls.models import Institute
from proposals.models import Proposal
from reviews.models import Conflict, Decision, Review
from tests.factories import (
    CallFactory,
    StaffFactory,
    UnitFactory,
    UserFactory,
    activate_totp,
)
from tests.reviews.factories import AssignmentFactory, PanelFactory, ReviewerFactory, eligible_proposal

from .helpers import serious_accessibility_violations, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def review_setting(settings):
    settings.LANGUAGE_CODE = "en"
    institute = Institute.objects.create(code="INEE", legal_name="Institut écologie et environnement",
                                         usage_name="CNRS Écologie & Environnement")
    call = CallFactory()
    officer = UserFactory(email="officer@example.org", full_name="Olivia Officer")
    activate_totp(officer)
    panel = PanelFactory(call=call, institute=institute)
    panel.officers.add(officer)
    reviewer = ReviewerFactory(user=UserFactory(email="rev@example.org", full_name="Rita Reviewer"), institute=institute)
    conflicted = eligible_proposal(call=call, unit=UnitFactory(main_institute=institute), acronym="CONFLICT",
                                   title="A proposal by a former student")
    scored = eligible_proposal(call=call, unit=UnitFactory(main_institute=institute), acronym="SCORED",
                               title="Pollinators under drought")
    for proposal in (conflicted, scored):
        AssignmentFactory(proposal=proposal, panel=panel, reviewer=reviewer)
    Proposal.objects.filter(pk__in=[conflicted.pk, scored.pk]).update(state="in_review")
    staff = StaffFactory(email="staff@example.org")
    return {"call": call, "panel": panel, "reviewer": reviewer, "officer": officer, "staff": staff,
            "conflicted": conflicted, "scored": scored}


def test_review_to_decision(live_server, browser, review_setting):
    base = live_server.url
    s = review_setting
    page = browser.new_context(locale="en-GB", timezone_id="Europe/Paris").new_page()
    page.set_default_timeout(15_000)

    # The reviewer: two-factor sign-in, a conflict declared, a review scored and submitted.
    sign_in(page, base, "rev@example.org", code=True)
    page.goto(f"{base}/review/")
    rows = page.locator("#my-reviews tbody tr")
    expect(rows).to_have_count(2)
    conflicted_row = page.locator(f"#my-reviews tr:has-text('{s['conflicted'].reference}')")
    conflicted_row.get_by_role("link", name="Read the proposal").click()
    expect(page.locator("main")).to_contain_text("A proposal by a former student")
    page.goto(page.url.replace("/proposal/", "/invitation/"))
    page.locator("form[action$='/conflict/'] textarea").fill("I supervised the PI's PhD.")
    page.locator("form[action$='/conflict/'] button[type=submit]").click()
    expect(page.locator(".messages")).to_be_visible()
    assert Conflict.objects.filter(proposal=s["conflicted"], source="declared").count() == 1
    expect(rows).to_have_count(1)
    assert page.request.get(f"{base}/review/{s['conflicted'].assignments.get().pk}/proposal/").status == 410

    page.locator(f"#my-reviews tr:has-text('{s['scored'].reference}')").get_by_role("link", name="Write the review").click()
    assert serious_accessibility_violations(page) == []
    for select in page.locator("#review-form select[name^=score_]").all():
        select.select_option("4.5")
    page.fill("#id_comment_for_pi", "A timely, well-built collaboration.")
    page.fill("#id_confidential_comment", "The budget for field missions is generous.")
    page.select_option("#id_recommendation", "fund")
    page.locator("button[name=action][value=submit]").click()
    expect(page.locator(".messages")).to_contain_text("submitted")
    review = Review.objects.get(proposal=s["scored"], reviewer=s["reviewer"])
    assert (review.state, sorted({str(sc.score) for sc in review.scores.all()})) == ("submitted", ["4.5"])
    page.context.close()

    # The officer: recommends and ranks.
    page = browser.new_context(locale="en-GB", timezone_id="Europe/Paris").new_page()
    page.set_default_timeout(15_000)
    sign_in(page, base, "officer@example.org", code=True)
    page.goto(f"{base}/panels/")
    expect(page.locator("main")).to_contain_text(s["call"].title)
    page.goto(f"{base}/panels/{s['panel'].pk}/proposals/{s['scored'].pk}/")
    expect(page.locator("main")).to_contain_text("A timely, well-built collaboration.")
    page.fill("#id_consensus", "An original partnership; the panel recommends funding.")
    page.select_option("#id_recommendation", "fund")
    page.fill("#id_proposed_amount", "12000")
    page.get_by_role("button", name="Save the recommendation").click()
    expect(page.locator(".messages")).to_be_visible()
    page.goto(f"{base}/panels/{s['panel'].pk}/")
    assert serious_accessibility_violations(page) == []
    page.fill(f"#rank-{s['scored'].pk}", "1")
    page.get_by_role("button", name="Save ranking").click()
    expect(page.locator(".messages")).to_be_visible()
    recommendation = s["scored"].panel_recommendation
    assert (recommendation.recommendation, recommendation.proposed_amount, recommendation.rank) == ("fund", 12000, 1)
    page.context.close()

    # Staff: decide in the admin and send the mails.
    page = browser.new_context(locale="en-GB", timezone_id="Europe/Paris").new_page()
    page.set_default_timeout(15_000)
    sign_in(page, base, "staff@example.org", code=True)
    page.goto(f"{base}/admin/reviews/decision/call/{s['call'].pk}/decisions/")
    # One review of the two the panel needs: staff decide anyway, with a reason.
    expect(page.locator(f"#p{s['scored'].pk}")).to_contain_text("Missing: 1 of 2 reviews are missing")
    page.select_option(f"#outcome-{s['scored'].pk}", "selected")
    page.fill(f"#amount-{s['scored'].pk}", "12000")
    page.fill(f"#reason-{s['scored'].pk}", "One review only; the panel is unanimous and the call must close.")
    page.locator(f"form:has(#outcome-{s['scored'].pk}) input[type=submit]").click()
    expect(page.locator("ul.messagelist")).to_be_visible()
    assert Decision.objects.get(proposal=s["scored"]).outcome == "selected"
    page.goto(f"{base}/admin/reviews/decision/call/{s['call'].pk}/decisions/notify/")
    page.locator("input[type=submit].default").click()
    expect(page.locator("ul.messagelist")).to_be_visible()
    assert Decision.objects.get(proposal=s["scored"]).notified_at is not None
    decision_mails = [(m.to, m.attachments[0][0]) for m in mail.outbox
                      if m.attachments and m.attachments[0][0].startswith("evaluation-")]
    reference = s["scored"].reference
    assert decision_mails == [([s["scored"].pi.email], f"evaluation-{reference}.pdf"),
                              ([s["scored"].partner_email], f"evaluation-{reference}.pdf")]
    page.context.close()
