"""The staff's decisions page one page at a time (funding.selectors): the rows in the order of
the overview, the budget and the institutes' totals over the whole call, and a constant number of queries."""

from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from funding.domain.decisions import decision_set, decisions_overview
from funding.selectors import decisions_page
from tests.factories import InstituteFactory
from tests.reviews.staff_factories import closed_call, ranked_proposal

pytestmark = pytest.mark.django_db


def decide(proposal, user, outcome, amount=None):
    # These proposals have one review of the two their panel needs: staff decide anyway, with a reason.
    return decision_set(proposal_id=proposal.pk, user=user, outcome=outcome, amount=amount, now=timezone.now(),
                        override_reason="One review is enough for this test.")


@pytest.fixture
def call_of_seven(staff):
    """INC: ranks 2, 1 and unranked; INP: ranks 1, 2, 3 and one unranked; two selected, one rejected."""
    call = closed_call(total_envelope=Decimal(100000))
    chem, phys = InstituteFactory(code="INC"), InstituteFactory(code="INP")
    made = {}
    for institute, specs in ((chem, [("C2", 2), ("C1", 1), ("C0", None)]),
                             (phys, [("P1", 1), ("P2", 2), ("P3", 3), ("P0", None)])):
        for name, rank in specs:
            made[name] = ranked_proposal(call, institute=institute, rank=rank, reference=f"IEA30-{name}", reviews=1,
                                         recommendation="fund" if rank else "")
    decide(made["C1"], staff, "selected", Decimal(12000))
    decide(made["P1"], staff, "selected", Decimal(14000))
    decide(made["P3"], staff, "rejected")
    return call


def references(page):
    return [[row.proposal.reference for row in group.rows] for group in page.groups]


def test_the_pages_follow_the_overviews_order_and_the_totals_cover_the_whole_call(call_of_seven):
    overview = decisions_overview(call=call_of_seven)
    assert [r.proposal.reference for r in decisions_page(call=call_of_seven, per_page=100).rows] == [
        r.proposal.reference for r in overview.rows]
    first, second = (decisions_page(call=call_of_seven, page_number=n, per_page=4) for n in (1, 2))
    assert references(first) == [["IEA30-C1", "IEA30-C2", "IEA30-C0"], ["IEA30-P1"]]
    assert references(second) == [["IEA30-P2", "IEA30-P3", "IEA30-P0"]]
    for page in (first, second):
        assert (page.selected_total, page.remaining, page.selected_count, page.undecided_count,
                page.unnotified_count) == (Decimal(26000), Decimal(74000), 2, 4, 3)
    assert [g.selected_total for g in second.groups] == [Decimal(14000)]
    assert [(i.institute.code, i.count, i.selected_total, i.page_number) for i in first.institutes] == [
        ("INC", 3, Decimal(12000), 1), ("INP", 4, Decimal(14000), 1)]
    assert [i.page_number for i in decisions_page(call=call_of_seven, per_page=2).institutes] == [1, 2]


def test_a_page_out_of_range_shows_the_last_one(call_of_seven):
    assert references(decisions_page(call=call_of_seven, page_number=99, per_page=4)) == [
        ["IEA30-P2", "IEA30-P3", "IEA30-P0"]]
    assert decisions_page(call=call_of_seven, page_number="x", per_page=4).page.number == 1


def test_the_page_takes_a_constant_number_of_queries_and_a_decision_returns_to_its_page(client, staff, settings,
                                                                                        queries):
    settings.LANGUAGE_CODE = "en"
    call = closed_call()
    institutes = [InstituteFactory() for _ in range(3)]
    proposals = [ranked_proposal(call, institute=institutes[n], rank=1) for n in range(3)]
    client.force_login(staff)
    url = reverse("admin:reviews_decisions", args=[call.pk])
    ranks = iter(range(2, 100))

    def rank(n):
        for index in range(n):
            proposal = ranked_proposal(call, institute=institutes[index % 3], rank=next(ranks), reviews=1)
            if index % 2:
                decide(proposal, staff, "reserve")

    assert queries.at_sizes(rank, lambda: client.get(url), sizes=(0, 12)) == (12, 12)
    response = client.post(f"{url}?page=1", {"proposal": proposals[0].pk, "outcome": "reserve"})
    assert response["Location"] == f"{url}?page=1#p{proposals[0].pk}"
