"""The directorate's decision pages in the admin (``funding.admin.decisions``, hung on the decision admin):
viewing is not deciding, the decisions page shows the envelope and takes decisions, the mails are asked for
then sent once, the evaluation summary previews as a PDF, and the page's query count does not grow."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from funding.domain.decisions import decision_set
from proposals.models import Proposal, ProposalState
from reviews.models import Decision
from tests.factories import InstituteFactory, StaffFactory
from tests.reviews.staff_factories import closed_call, ranked_proposal

pytestmark = pytest.mark.django_db


@pytest.fixture
def past_call():
    return closed_call()


@pytest.fixture
def english(client):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def state_of(proposal) -> str:
    return Proposal.objects.get(pk=proposal.pk).state


# Access ------------------------------------------------------------------------------------------------------


def test_viewing_is_not_deciding(client, past_call):
    """A staff member who may look at decisions (view) may not take them (change)."""
    proposal = ranked_proposal(past_call)
    clerk = StaffFactory(is_superuser=False)
    clerk.user_permissions.add(Permission.objects.get(codename="view_decision"))
    client.force_login(clerk)
    url = reverse("admin:reviews_decisions", args=[past_call.pk])
    response = client.get(url)
    assert response.status_code == 200
    assert b'name="outcome"' not in response.content
    assert client.post(url, {"proposal": proposal.pk, "outcome": "rejected"}).status_code == 403
    assert client.get(reverse("admin:reviews_decisions_notify", args=[past_call.pk])).status_code == 403
    assert Decision.objects.count() == 0


# Decisions page -----------------------------------------------------------------------------------------------


def test_the_decisions_page_shows_the_envelope_and_what_remains(english, staff):
    call = closed_call(total_envelope=Decimal(30000))
    institute = InstituteFactory(code="INSU", usage_name="CNRS Terre & Univers")
    first = ranked_proposal(call, institute=institute, rank=1)
    ranked_proposal(call, institute=institute, rank=2, proposed_amount=Decimal("11500.50"))
    decision_set(proposal_id=first.pk, user=staff, outcome="selected", amount=Decimal(12000), now=timezone.now())
    english.force_login(staff)
    content = english.get(reverse("admin:reviews_decisions", args=[call.pk])).content.decode()
    assert "€30,000.00" in content and "€12,000.00" in content and "€18,000.00" in content
    assert "CNRS Terre &amp; Univers (INSU)" in content
    assert 'value="11500.50"' in content
    assert "Send the decision mail (1)" in content


def test_deciding_from_the_page(english, staff, past_call):
    proposal = ranked_proposal(past_call)
    english.force_login(staff)
    url = reverse("admin:reviews_decisions", args=[past_call.pk])
    response = english.post(url, {"proposal": proposal.pk, "outcome": "selected", "amount": "13000"})
    assert (response.status_code, response["Location"]) == (302, f"{url}#p{proposal.pk}")
    assert (Decision.objects.get().amount, state_of(proposal)) == (Decimal(13000), ProposalState.SELECTED)
    response = english.post(url, {"proposal": proposal.pk, "outcome": "selected", "amount": "20000"}, follow=True)
    assert "The amount must be between €10,000.00 and €14,000.00" in response.content.decode()
    assert Decision.objects.get().amount == Decimal(13000)
    response = english.post(url, {"proposal": proposal.pk, "outcome": ""}, follow=True)
    assert "Choose an outcome." in response.content.decode()


def test_a_french_amount_is_understood(client, staff, past_call):
    proposal = ranked_proposal(past_call)
    client.force_login(staff)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "fr"
    client.post(reverse("admin:reviews_decisions", args=[past_call.pk]),
                {"proposal": proposal.pk, "outcome": "selected", "amount": "12500,50"})
    assert Decision.objects.get().amount == Decimal("12500.50")


def test_sending_the_mails_asks_first_then_sends_once(english, staff, past_call, mailoutbox,
                                                        django_capture_on_commit_callbacks):
    proposal = ranked_proposal(past_call)
    ranked_proposal(past_call, rank=2)  # not decided: the page says so
    decision_set(proposal_id=proposal.pk, user=staff, outcome="rejected", amount=None, now=timezone.now())
    english.force_login(staff)
    url = reverse("admin:reviews_decisions_notify", args=[past_call.pk])
    content = english.get(url).content.decode()
    assert "1 decision will be mailed" in content
    assert "Rejected: 1" in content
    assert "1 proposal in review is not decided yet" in content
    assert mailoutbox == []
    with django_capture_on_commit_callbacks(execute=True):
        response = english.post(url, follow=True)
    assert "1 decision mail is on its way." in response.content.decode()
    assert len(mailoutbox) == 2
    with django_capture_on_commit_callbacks(execute=True):
        english.post(url)
    assert len(mailoutbox) == 2
    assert "Every decision of this call has been mailed." in english.get(url).content.decode()
    page = english.get(reverse("admin:reviews_decisions", args=[past_call.pk])).content.decode()
    assert page.count('name="outcome"') == 1  # the mailed decision has no form any more


def test_the_evaluation_summary_preview_is_a_pdf(english, staff, past_call):
    proposal = ranked_proposal(past_call)
    english.force_login(staff)
    response = english.get(reverse("admin:reviews_evaluation_summary", args=[proposal.pk]) + "?lang=en")
    assert (response.status_code, response["Content-Type"]) == (200, "application/pdf")
    assert response.content.startswith(b"%PDF")


# Query count at two sizes ----------------------------------------------------------------------------------------


def test_the_decisions_page_query_count_does_not_grow(client, staff, past_call, queries):
    client.force_login(staff)
    url = reverse("admin:reviews_decisions", args=[past_call.pk])
    institutes = [InstituteFactory() for _ in range(3)]
    ranks = iter(range(1, 100))

    def rank(n):
        # The first three a proposal of each institute with its reviews; then half of the others decided
        # anyway (one review of the two), in reserve.
        for index in range(n):
            number = next(ranks)
            if number <= 3:
                ranked_proposal(past_call, institute=institutes[index], rank=1)
                continue
            proposal = ranked_proposal(past_call, institute=institutes[index % 3], rank=number, reviews=1)
            if index % 2:
                decision_set(proposal_id=proposal.pk, user=staff, outcome="reserve", amount=None,
                             now=timezone.now(), override_reason="One review is enough here.")

    assert queries.at_sizes(rank, lambda: client.get(url), sizes=(3, 30)) == (12, 12)
