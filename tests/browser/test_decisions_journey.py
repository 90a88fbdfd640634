"""Issue #15 in a real browser: staff cannot decide an unreviewed proposal without a reason, decide it with one,
clear a decision, and read the list of proposals before sending the mails; the officer sees the threshold
a proposal misses in the panel table — on a desktop and on a phone."""

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from calls.models import Criterion
from proposals.models import ProposalState
from reviews.models import Decision
from tests.factories import StaffFactory
from tests.reviews.staff_factories import closed_call, ranked_proposal, set_state
from tests.reviews.test_panel import World

from .helpers import serious_accessibility_violations, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_staff_decide_with_a_reason_clear_and_confirm_the_mails(live_server, page, settings):
    settings.LANGUAGE_CODE = "en"
    staff = StaffFactory(email="staff@example.org")
    call = closed_call(total_envelope=Decimal(100000))
    unreviewed = ranked_proposal(call, reviews=0, title="Nobody read me yet")
    unreviewed.panel_recommendation.delete()
    set_state(unreviewed, ProposalState.IN_REVIEW)
    reviewed = ranked_proposal(call, rank=2, acronym="TIDES", title="Tidal flats under pressure")
    base = live_server.url
    sign_in(page, base, staff.email, code=True)
    page.goto(f"{base}/admin/reviews/decision/call/{call.pk}/decisions/")

    row = page.locator(f"#p{unreviewed.pk}")
    expect(row).to_contain_text("Missing: 2 of 2 reviews are missing; the panel has not recommended")
    # No reason: refused, with what is missing, and nothing decided.
    row.locator("select[name=outcome]").select_option("rejected")
    row.locator("input[type=submit][value=Save]").click()
    expect(page.locator("ul.messagelist")).to_contain_text(
        f"{unreviewed.reference}: 2 of 2 reviews are missing; the panel has not recommended; "
        "give a reason to decide anyway.")
    assert Decision.objects.count() == 0
    # With a reason: decided, and the page says it was decided anyway.
    row = page.locator(f"#p{unreviewed.pk}")
    row.locator("select[name=outcome]").select_option("rejected")
    row.get_by_label("Reason to decide anyway").fill("Outside the programme: a single-lab project.")
    row.locator("input[type=submit][value=Save]").click()
    expect(page.locator(f"#p{unreviewed.pk}")).to_contain_text("Decided anyway: Outside the programme")
    assert Decision.objects.get(proposal=unreviewed).override_reason == "Outside the programme: a single-lab project."

    # The reviewed proposal needs no reason; its decision is then cleared.
    row = page.locator(f"#p{reviewed.pk}")
    expect(row.locator("textarea")).to_have_count(0)
    row.locator("select[name=outcome]").select_option("selected")
    row.locator("input[name=amount]").fill("12500")
    row.locator("input[type=submit][value=Save]").click()
    expect(page.locator("ul.messagelist")).to_contain_text(f"{reviewed.reference}: selected.")
    page.locator(f"#p{reviewed.pk}").locator("input[type=submit][value='Clear the decision']").click()
    expect(page.locator("ul.messagelist")).to_contain_text(
        f"The decision on {reviewed.reference} is cleared; the proposal is ranked again.")
    assert not Decision.objects.filter(proposal=reviewed).exists()
    row = page.locator(f"#p{reviewed.pk}")
    row.locator("select[name=outcome]").select_option("selected")
    row.locator("input[name=amount]").fill("12500")
    row.locator("input[type=submit][value=Save]").click()
    expect(page.locator("ul.messagelist")).to_contain_text(f"{reviewed.reference}: selected.")

    # The confirmation lists each proposal with its outcome and amount before anything is sent.
    page.get_by_role("link", name=re.compile(r"Send the decision mails \(2\)")).click()
    listed = page.locator("#pending-decisions tbody tr")
    expect(listed).to_have_count(2)
    expect(page.locator("#pending-decisions tbody tr", has_text=reviewed.reference)).to_contain_text("TIDES")
    expect(page.locator("#pending-decisions tbody tr", has_text=reviewed.reference)).to_contain_text("€12,500.00")
    expect(page.locator("#pending-decisions tbody tr", has_text=unreviewed.reference)).to_contain_text("Rejected")
    expect(page.locator("#notify-budget")).to_contain_text("€100,000.00")
    assert serious_accessibility_violations(page) == []
    assert Decision.objects.filter(notified_at__isnull=False).count() == 0
    page.locator("input[type=submit][value='Send the decision mails']").click()
    expect(page.locator("ul.messagelist")).to_contain_text("2 decision mails are on their way.")
    # Mailed: nothing left to clear.
    expect(page.locator("input[type=submit][value='Clear the decision']")).to_have_count(0)


@pytest.mark.parametrize("viewport", [{"width": 1366, "height": 900}, {"width": 390, "height": 844}])
def test_the_officer_sees_the_threshold_a_proposal_misses(live_server, page, settings, viewport):
    settings.LANGUAGE_CODE = "en"
    page.set_viewport_size(viewport)
    world = World()
    world.weigh(1, 1)
    Criterion.objects.filter(pk=world.criteria[1].pk).update(threshold=Decimal(3))
    label = Criterion.objects.get(pk=world.criteria[1].pk).label_en
    passing, failing = world.proposals(2)
    a, b = world.reviewer("Alice Ames"), world.reviewer("Bruno Bell")
    world.reviews([(passing, a, [4, 4]), (passing, b, [4, 4]), (failing, a, [4, 2]), (failing, b, [4, 3])])
    base = live_server.url
    sign_in(page, base, world.officer.email, code=True)
    page.goto(f"{base}/panels/{world.panel.pk}/")
    failing_row = page.locator("tr", has_text=failing.reference)
    expect(failing_row).to_contain_text("under a threshold")
    expect(failing_row).to_contain_text(f"{label}: 2.5, under the threshold of 3")
    expect(page.locator("tr", has_text=passing.reference)).not_to_contain_text("under a threshold")
    expect(page.locator("#panel-table")).to_contain_text(f"Thresholds: {label}: 3 of 5.")
    page.get_by_label("Under a threshold only").check()
    expect(page.locator("tbody tr")).to_have_count(1)
    expect(page.locator("tbody tr")).to_contain_text(failing.reference)
    assert serious_accessibility_violations(page) == []
