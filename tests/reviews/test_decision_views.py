"""The pages of issue #15's decision rules on the review's side: the officer's table flags the thresholds missed
(filter, export, the same query count); the reviewer's list shows a closed assignment; the review form states
the thresholds; the call's admin edits the overall threshold. (The staff's decision pages:
tests/funding/test_decision_views.py.)"""

import io
from decimal import Decimal

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from calls.models import Criterion
from proposals.models import Proposal
from reviews.models import Assignment, AssignmentState

from .factories import AssignmentFactory
from .staff_factories import closed_call
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

    assert queries.at_sizes(review_more, lambda: client.get(url), sizes=(0, 12)) == (9, 9)


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


# The call's admin ------------------------------------------------------------------------------------------------


def test_the_call_admin_edits_the_overall_threshold(english, staff):
    past_call = closed_call(total_envelope=Decimal(100000))
    english.force_login(staff)
    content = english.get(reverse("admin:calls_call_change", args=[past_call.pk])).content.decode()
    assert 'name="overall_threshold"' in content
