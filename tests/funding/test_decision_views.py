"""The staff's decision pages of issue #15 (``funding.admin.decisions``): the decisions page says what each
decision lacks, asks for a reason, clears a decision; the confirmation lists the proposals mailed, in the same
number of queries whatever their number."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from calls.models import Criterion
from funding.domain.decisions import decision_set, decisions_announce
from proposals.models import Proposal, ProposalState
from reviews.models import Decision
from tests.factories import StaffFactory, UserFactory, activate_totp
from tests.reviews.staff_factories import closed_call, make_reviewer, panel_for, ranked_proposal, set_state

pytestmark = pytest.mark.django_db


@pytest.fixture
def english(client):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


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
    decisions_announce(call_id=past_call.pk, user=staff, now=timezone.now())
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
