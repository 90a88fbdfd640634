"""The pages of issue #15's decision rules: the officer's table flags the thresholds missed (filter, export, the
same query count); the staff's decisions page says what each decision lacks, asks for a reason, clears a
decision; the confirmation lists the proposals mailed; the reviewer's list shows a closed assignment; the
review form states the thresholds; the call's admin edits the overall threshold."""

import io
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from calls.models import Criterion
from proposals.models import Proposal, ProposalState
from reviews.domain.decisions import decision_set, decisions_notify
from reviews.models import Assignment, AssignmentState, Decision
from tests.factories import StaffFactory, UserFactory, activate_totp

from .factories import AssignmentFactory
from .staff_factories import closed_call, make_reviewer, panel_for, ranked_proposal, set_state
from .test_panel import NOW, World

pytestmark = pytest.mark.django_db


@pytest.fixture
def english(client):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


# The officer's panel table ------------------------------------------------------------------------------------


@pytest.fixture
def world():
    """p1 passes; p2's second criterion (mean 2) is under its threshold of 3, and its total (3) under 3.5."""
    world = World()
    world.weigh(1, 1)
    Criterion.objects.filter(pk=world.criteria[1].pk).update(threshold=Decimal(3))
    world.call.overall_threshold = Decimal("3.5")
    world.call.save()
    world.p1, world.p2 = world.proposals(2)
    world.a, world.b = world.reviewer("Alice Ames"), world.reviewer("Bruno Bell")
    world.reviews([(world.p1, world.a, [4, 4]), (world.p1, world.b, [4, 4]),
                   (world.p2, world.a, [4, 2]), (world.p2, world.b, [4, 2])])
    return world


def row_of(content: str, reference: str) -> str:
    return content.split(f">{reference}</a>")[1].split("</tr>")[0]


def test_the_table_flags_a_proposal_under_a_threshold_and_says_which(client, world):
    client.force_login(world.officer)
    content = client.get(reverse("panel:table", args=[world.panel.pk]), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    label = Criterion.objects.get(pk=world.criteria[1].pk).label_en
    assert "under a threshold" in row_of(content, world.p2.reference)
    assert (f"{label}: 2, under the threshold of 3; overall weighted total: 3, under the threshold of 3.5"
            in row_of(content, world.p2.reference))
    assert "under a threshold" not in row_of(content, world.p1.reference)
    assert f"Thresholds: {label}: 3 of 5; overall weighted total: 3.5." in content


def test_the_filter_keeps_the_proposals_under_a_threshold(client, world):
    client.force_login(world.officer)
    response = client.get(reverse("panel:table", args=[world.panel.pk]), {"under_threshold": "on"})
    assert [row.proposal.reference for row in response.context["rows"]] == [world.p2.reference]


def test_the_table_query_count_stays_the_same_with_thresholds(client, world, queries):
    client.force_login(world.officer)
    url = reverse("panel:table", args=[world.panel.pk])

    def review_more(n):
        world.reviews([(p, world.a, [3, 1]) for p in world.proposals(n)])

    assert queries.at_sizes(review_more, lambda: client.get(url), sizes=(0, 12)) == (10, 10)


def test_the_export_works_with_flagged_rows(client, world):
    client.force_login(world.officer)
    response = client.get(reverse("panel:export", args=[world.panel.pk]), {"sort": "reference"})
    assert response.status_code == 200
    rows = list(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
    assert [row[0] for row in rows[1:]] == [world.p1.reference, world.p2.reference]


def test_recommending_funding_under_a_threshold_is_refused_on_the_page(client, world):
    client.force_login(world.officer)
    url = reverse("panel:proposal", args=[world.panel.pk, world.p2.pk])
    response = client.post(url, {"recommendation": "fund", "proposed_amount": "12000", "consensus": "Good."},
                           HTTP_ACCEPT_LANGUAGE="en", follow=True)
    assert "cannot be recommended for funding" in response.content.decode()
    assert not hasattr(Proposal.objects.get(pk=world.p2.pk), "panel_recommendation")


def test_the_officers_proposal_page_says_which_threshold_is_missed(client, world):
    client.force_login(world.officer)
    page = client.get(reverse("panel:proposal", args=[world.panel.pk, world.p2.pk]), HTTP_ACCEPT_LANGUAGE="en")
    warning = page.content.decode().split('id="threshold-misses"')[1].split("</div>")[0]
    assert "overall weighted total: 3, under the threshold of 3.5" in warning
    passing = client.get(reverse("panel:proposal", args=[world.panel.pk, world.p1.pk]), HTTP_ACCEPT_LANGUAGE="en")
    assert 'id="threshold-misses"' not in passing.content.decode()


# The reviewer's side -------------------------------------------------------------------------------------------


def test_the_review_form_states_the_thresholds(client):
    assignment = AssignmentFactory()
    call = assignment.proposal.call
    Criterion.objects.filter(call=call, position=1).update(threshold=Decimal(3))
    call.overall_threshold = Decimal("3.5")
    call.save()
    client.force_login(assignment.reviewer.user)
    content = client.get(reverse("reviewer:review", args=[assignment.pk]), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert content.count("Threshold: ") == 1
    assert "Threshold: 3 of 5." in content
    assert "Overall threshold: 3.5." in content


def test_a_closed_assignment_is_listed_as_closed_not_due(client, world):
    reviewer = world.reviewer("Carla Cruz")
    p3 = world.proposal()
    assignment = Assignment.objects.create(panel=world.panel, proposal=p3, reviewer=reviewer,
                                           state=AssignmentState.CLOSED, due_at=NOW, created_at=NOW)
    client.force_login(reviewer.user)
    content = client.get(reverse("reviewer:assignments"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    row = content.split(f'data-assignment="{assignment.pk}"')[1].split("</tr>")[0]
    assert "Closed (decision taken)" in row and "no longer due" in row
    assert "overdue" not in row and "Write the review" not in row
    # …and it opens nothing.
    assert client.get(reverse("reviewer:review", args=[assignment.pk])).status_code == 410  # explained: the decision was mailed


# The staff's decisions page ------------------------------------------------------------------------------------


@pytest.fixture
def past_call():
    return closed_call(total_envelope=Decimal(100000))


@pytest.fixture
def unreviewed(past_call):
    proposal = ranked_proposal(past_call, reviews=0, title="Nobody read me")
    proposal.panel_recommendation.delete()
    return set_state(proposal, ProposalState.IN_REVIEW)


def decisions_url(call):
    return reverse("admin:reviews_decisions", args=[call.pk])


def test_the_page_says_what_is_missing_and_asks_for_a_reason(english, staff, unreviewed):
    english.force_login(staff)
    content = english.get(decisions_url(unreviewed.call)).content.decode()
    row = content.split(f'id="p{unreviewed.pk}"')[1].split("</tr>")[0]
    assert "Missing: 2 of 2 reviews are missing; the panel has not recommended" in row
    assert f'id="reason-{unreviewed.pk}" name="override_reason"' in row


def test_a_complete_row_asks_for_no_reason(english, staff, past_call):
    proposal = ranked_proposal(past_call)
    english.force_login(staff)
    row = english.get(decisions_url(past_call)).content.decode().split(f'id="p{proposal.pk}"')[1].split("</tr>")[0]
    assert "Missing:" not in row and "override_reason" not in row


def test_a_threshold_missed_is_shown_with_the_reason_field(english, staff, past_call):
    Criterion.objects.filter(call=past_call, position=4).update(threshold=Decimal("3.5"))
    proposal = ranked_proposal(past_call)
    english.force_login(staff)
    row = english.get(decisions_url(past_call)).content.decode().split(f'id="p{proposal.pk}"')[1].split("</tr>")[0]
    assert "Under a threshold:" in row and "3, under the threshold of 3.5" in row
    assert "override_reason" in row


def test_deciding_without_a_reason_is_refused_and_with_one_taken(english, staff, unreviewed):
    english.force_login(staff)
    url = decisions_url(unreviewed.call)
    response = english.post(url, {"proposal": unreviewed.pk, "outcome": "rejected", "override_reason": ""}, follow=True)
    assert (f"{unreviewed.reference}: 2 of 2 reviews are missing; the panel has not recommended; give a reason to "
            "decide anyway.") in response.content.decode()
    assert Decision.objects.count() == 0
    response = english.post(url, {"proposal": unreviewed.pk, "outcome": "rejected",
                                  "override_reason": "Outside the programme."}, follow=True)
    assert Decision.objects.get().override_reason == "Outside the programme."
    assert "Decided anyway: Outside the programme." in response.content.decode()


def test_clearing_from_the_page(english, staff, past_call):
    proposal = ranked_proposal(past_call)
    decision_set(proposal_id=proposal.pk, user=staff, outcome="selected", amount=Decimal(12000), now=timezone.now())
    english.force_login(staff)
    url = decisions_url(past_call)
    assert "Clear the decision" in english.get(url).content.decode()
    response = english.post(url, {"proposal": proposal.pk, "action": "clear"})
    assert (response.status_code, response["Location"]) == (302, f"{url}#p{proposal.pk}")
    assert (Decision.objects.count(), Proposal.objects.get(pk=proposal.pk).state) == (0, ProposalState.RANKED)
    response = english.post(url, {"proposal": proposal.pk, "action": "clear"}, follow=True)
    assert f"{proposal.reference} has no decision to clear." in response.content.decode()


def test_a_mailed_decision_offers_no_clearing_and_refuses_it(english, staff, past_call):
    proposal = ranked_proposal(past_call)
    decision_set(proposal_id=proposal.pk, user=staff, outcome="rejected", amount=None, now=timezone.now())
    decisions_notify(call_id=past_call.pk, user=staff, now=timezone.now())
    english.force_login(staff)
    url = decisions_url(past_call)
    assert "Clear the decision" not in english.get(url).content.decode()
    response = english.post(url, {"proposal": proposal.pk, "action": "clear"}, follow=True)
    assert "it can no longer be changed" in response.content.decode()
    assert Decision.objects.count() == 1


def test_a_proposal_of_another_call_is_not_cleared(english, staff, past_call):
    stranger = ranked_proposal(closed_call())
    decision_set(proposal_id=stranger.pk, user=staff, outcome="reserve", amount=None, now=timezone.now())
    english.force_login(staff)
    response = english.post(decisions_url(past_call), {"proposal": stranger.pk, "action": "clear"}, follow=True)
    assert "This proposal is not in this call" in response.content.decode()
    assert Decision.objects.count() == 1


@pytest.mark.parametrize("who", ["anonymous", "pi", "officer", "reviewer", "viewer"])
def test_only_deciding_staff_clear(client, staff, past_call, pi, who):
    proposal = ranked_proposal(past_call)
    decision_set(proposal_id=proposal.pk, user=staff, outcome="reserve", amount=None, now=timezone.now())
    if who == "pi":
        client.force_login(pi)
    elif who == "officer":
        officer = UserFactory(email="officer@cnrs.example.fr")
        activate_totp(officer)  # with two-factor, as officers and reviewers have: the admin still refuses them
        panel_for(past_call, proposal.institute).officers.add(officer)
        client.force_login(officer)
    elif who == "reviewer":
        reviewer = make_reviewer(proposal.institute, name="R", email="rev@example.org").user
        activate_totp(reviewer)
        client.force_login(reviewer)
    elif who == "viewer":
        viewer = StaffFactory(is_superuser=False)
        viewer.user_permissions.add(Permission.objects.get(codename="view_decision"))
        client.force_login(viewer)
    response = client.post(decisions_url(past_call), {"proposal": proposal.pk, "action": "clear"})
    assert response.status_code == (403 if who == "viewer" else 302)
    if who != "viewer":
        assert response["Location"].startswith("/admin/login/")
    assert Decision.objects.count() == 1


# The confirmation before the mails ------------------------------------------------------------------------------


def test_the_confirmation_lists_each_proposal_with_its_outcome_and_amount(english, staff, past_call, unreviewed):
    selected = ranked_proposal(past_call, rank=2, acronym="TIDES", title="Tidal flats under pressure")
    decision_set(proposal_id=selected.pk, user=staff, outcome="selected", amount=Decimal("12500"), now=timezone.now())
    decision_set(proposal_id=unreviewed.pk, user=staff, outcome="rejected", amount=None, now=timezone.now(),
                 override_reason="Outside the programme.")
    english.force_login(staff)
    content = english.get(reverse("admin:reviews_decisions_notify", args=[past_call.pk])).content.decode()
    table = content.split('id="pending-decisions"')[1].split("</table>")[0]
    rows = table.split("<tr>")[2:]
    assert [row.split("</th>")[0].split(">")[-1] for row in rows] == sorted([selected.reference, unreviewed.reference])
    by_reference = {row.split("</th>")[0].split(">")[-1]: row for row in rows}
    assert "TIDES" in by_reference[selected.reference] and "Tidal flats under pressure" in by_reference[selected.reference]
    assert selected.pi.get_full_name() in by_reference[selected.reference]
    assert "Selected" in by_reference[selected.reference] and "€12,500.00" in by_reference[selected.reference]
    assert "Rejected" in by_reference[unreviewed.reference]
    assert "Decided anyway: Outside the programme." in by_reference[unreviewed.reference]
    budget = content.split('id="notify-budget"')[1].split("</table>")[0]
    assert "€12,500.00" in budget and "€100,000.00" in budget


def test_the_confirmation_costs_the_same_queries_with_one_or_four_decisions(client, staff, past_call, queries):
    client.force_login(staff)
    url = reverse("admin:reviews_decisions_notify", args=[past_call.pk])

    def decide_more(n):
        for _ in range(n):
            proposal = ranked_proposal(past_call, rank=None)
            decision_set(proposal_id=proposal.pk, user=staff, outcome="rejected", amount=None, now=timezone.now())

    assert queries.at_sizes(decide_more, lambda: client.get(url), sizes=(1, 4)) == (7, 7)


# The call's admin ------------------------------------------------------------------------------------------------


def test_the_call_admin_edits_the_overall_threshold(english, staff, past_call):
    english.force_login(staff)
    content = english.get(reverse("admin:calls_call_change", args=[past_call.pk])).content.decode()
    assert 'name="overall_threshold"' in content
