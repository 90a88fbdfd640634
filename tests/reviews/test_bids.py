"""Bids (issue #20): the officer opens bidding, the pool marks the panel's proposals, a "conflict" bid
declares a final conflict; the reviewer's page, the officer's counts, and who may see what."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from iea.audit.models import AuditEntry
from iea.notifications.models import Notification
from proposals.models import Proposal, ProposalState
from reviews.domain.bids import bid_counts, bidding_open_for, bids_save, panel_bidding_set, proposal_bids
from reviews.models import Assignment, AssignmentState, Bid, Conflict, Panel
from tests.factories import InstituteFactory, UnitFactory, UserFactory, activate_totp

from .factories import AssignmentFactory, PanelFactory, ReviewerFactory, eligible_proposal

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2030, 11, 4, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def setup():
    institute = InstituteFactory()
    unit = UnitFactory(main_institute=institute)
    first = eligible_proposal(unit=unit)
    second = eligible_proposal(unit=unit, call=first.call)
    panel = PanelFactory(call=first.call, institute=institute)
    officer = UserFactory(language="en")
    activate_totp(officer)
    panel.officers.add(officer)
    reviewer = ReviewerFactory(institute=institute, user=UserFactory(email="rita@lab.example.org", language="fr"))
    return panel, officer, reviewer, first, second


def open_bidding(panel, officer):
    return panel_bidding_set(panel_id=panel.pk, open=True, user=officer, now=NOW)


def test_opening_bidding_is_audited_and_invites_the_active_pool_once(setup):
    panel, officer, reviewer, *_ = setup
    ReviewerFactory(institute=panel.institute, active=False)
    ReviewerFactory(institute=InstituteFactory())  # another institute's pool
    open_bidding(panel, officer)
    panel_bidding_set(panel_id=panel.pk, open=False, user=officer, now=NOW)
    open_bidding(panel, officer)  # again: nobody is mailed twice

    assert Panel.objects.get(pk=panel.pk).bidding_open is True
    assert list(Notification.objects.filter(kind="bidding_invitation").values_list("email", "language")) == [
        ("rita@lab.example.org", "fr")]
    assert list(AuditEntry.objects.filter(action__startswith="panel.bidding").order_by("pk")
                .values_list("action", flat=True)) == ["panel.bidding_open", "panel.bidding_close", "panel.bidding_open"]


def test_only_the_panels_officers_open_bidding(setup):
    panel, _officer, reviewer, *_ = setup
    with pytest.raises(ValidationError) as refused:
        panel_bidding_set(panel_id=panel.pk, open=True, user=reviewer.user, now=NOW)
    assert refused.value.code == "forbidden"
    assert Panel.objects.get(pk=panel.pk).bidding_open is False


def test_bids_are_upserted_counted_and_audited(setup):
    panel, officer, reviewer, first, second = setup
    open_bidding(panel, officer)
    saved = bids_save(panel_id=panel.pk, reviewer=reviewer, bids={first.pk: "eager", second.pk: "rather_not"},
                      conflict_reasons={}, user=reviewer.user, now=NOW)
    assert saved.counts == {"eager": 1, "rather_not": 1}
    again = bids_save(panel_id=panel.pk, reviewer=reviewer, bids={first.pk: "willing", second.pk: "rather_not"},
                      conflict_reasons={}, user=reviewer.user, now=NOW + dt.timedelta(minutes=1))
    assert again.counts == {"willing": 1}  # the unchanged bid is not written again
    assert sorted(Bid.objects.values_list("proposal_id", "value", "updated_at")) == sorted([
        (first.pk, "willing", NOW + dt.timedelta(minutes=1)), (second.pk, "rather_not", NOW)])
    assert [entry.data["counts"] for entry in AuditEntry.objects.filter(action="panel.bids_save").order_by("pk")] == [
        {"eager": 1, "rather_not": 1}, {"willing": 1}]
    assert bid_counts(panel) == {"eager": 0, "willing": 1, "rather_not": 1, "conflict": 0}


def test_a_closed_bidding_refuses_and_saves_nothing(setup):
    panel, _officer, reviewer, first, _second = setup
    with pytest.raises(ValidationError) as refused:
        bids_save(panel_id=panel.pk, reviewer=reviewer, bids={first.pk: "eager"}, conflict_reasons={},
                  user=reviewer.user, now=NOW)
    assert refused.value.code == "closed"
    assert Bid.objects.count() == 0


def test_proposals_outside_the_panel_or_not_reviewable_are_ignored(setup):
    panel, officer, reviewer, first, second = setup
    open_bidding(panel, officer)
    elsewhere = eligible_proposal(unit=UnitFactory(main_institute=InstituteFactory()), call=first.call)
    Proposal.objects.filter(pk=second.pk).update(state=ProposalState.WITHDRAWN)
    saved = bids_save(panel_id=panel.pk, reviewer=reviewer,
                      bids={first.pk: "eager", second.pk: "eager", elsewhere.pk: "eager"},
                      conflict_reasons={}, user=reviewer.user, now=NOW)
    assert saved.counts == {"eager": 1}
    assert list(Bid.objects.values_list("proposal_id", flat=True)) == [first.pk]


def test_someone_outside_the_pool_or_for_someone_else_cannot_bid(setup):
    panel, officer, reviewer, first, _second = setup
    open_bidding(panel, officer)
    stranger = ReviewerFactory(institute=InstituteFactory())
    with pytest.raises(ValidationError) as refused:
        bids_save(panel_id=panel.pk, reviewer=stranger, bids={first.pk: "eager"}, conflict_reasons={},
                  user=stranger.user, now=NOW)
    assert refused.value.code == "not_in_pool"
    with pytest.raises(ValidationError) as refused:
        bids_save(panel_id=panel.pk, reviewer=reviewer, bids={first.pk: "eager"}, conflict_reasons={},
                  user=officer, now=NOW)
    assert refused.value.code == "forbidden"
    assert Bid.objects.count() == 0


def test_a_conflict_bid_needs_its_reason_then_declares_a_final_conflict(setup):
    panel, officer, reviewer, first, second = setup
    open_bidding(panel, officer)
    assignment = AssignmentFactory(proposal=first, panel=panel, reviewer=reviewer, state=AssignmentState.INVITED)
    with pytest.raises(ValidationError) as refused:
        bids_save(panel_id=panel.pk, reviewer=reviewer, bids={first.pk: "conflict", second.pk: "eager"},
                  conflict_reasons={first.pk: "  "}, user=reviewer.user, now=NOW)
    assert refused.value.code == "reason"
    assert first.reference in refused.value.messages[0]
    assert Bid.objects.count() == 0  # all or none

    saved = bids_save(panel_id=panel.pk, reviewer=reviewer, bids={first.pk: "conflict", second.pk: "eager"},
                      conflict_reasons={first.pk: "My former PhD student leads it."}, user=reviewer.user, now=NOW)
    assert saved.conflicts == [first.pk]
    assert list(Conflict.objects.values_list("proposal_id", "reviewer_id", "source", "detail")) == [
        (first.pk, reviewer.pk, "declared", "My former PhD student leads it.")]
    assert Assignment.objects.get(pk=assignment.pk).state == AssignmentState.WITHDRAWN
    # The officers hear of it: it withdrew an open assignment.
    assert Notification.objects.filter(kind="review_conflict_declared").count() == 1

    with pytest.raises(ValidationError) as refused:
        bids_save(panel_id=panel.pk, reviewer=reviewer, bids={first.pk: "eager"}, conflict_reasons={},
                  user=reviewer.user, now=NOW)
    assert refused.value.code == "conflict_final"
    assert Bid.objects.get(proposal=first).value == "conflict"
    # Choosing "conflict" again changes nothing.
    assert bids_save(panel_id=panel.pk, reviewer=reviewer, bids={first.pk: "conflict"}, conflict_reasons={},
                     user=reviewer.user, now=NOW).written == 0


def test_a_conflict_bid_without_assignment_mails_nobody(setup):
    panel, officer, reviewer, first, _second = setup
    open_bidding(panel, officer)
    bids_save(panel_id=panel.pk, reviewer=reviewer, bids={first.pk: "conflict"},
              conflict_reasons={first.pk: "Same lab as the partner."}, user=reviewer.user, now=NOW)
    assert Conflict.objects.filter(proposal=first, reviewer=reviewer, source="declared").count() == 1
    assert Notification.objects.filter(kind="review_conflict_declared").count() == 0


def test_a_conflict_set_by_the_officer_or_detected_cannot_be_bid_away(setup):
    panel, officer, reviewer, first, second = setup
    open_bidding(panel, officer)
    Conflict.objects.create(proposal=first, reviewer=reviewer, source="officer", cause="officer", created_at=NOW)
    Proposal.objects.filter(pk=second.pk).update(pi=reviewer.user)  # detected: the reviewer is the PI
    for proposal in (first, second):
        with pytest.raises(ValidationError) as refused:
            bids_save(panel_id=panel.pk, reviewer=reviewer, bids={proposal.pk: "willing"}, conflict_reasons={},
                      user=reviewer.user, now=NOW)
        assert refused.value.code == "conflict_final"
    assert Bid.objects.count() == 0


def test_the_officer_reads_who_bid_what(setup):
    panel, officer, reviewer, first, _second = setup
    open_bidding(panel, officer)
    other = ReviewerFactory(institute=panel.institute, user=UserFactory(email="alan@lab.example.org"))
    bids_save(panel_id=panel.pk, reviewer=reviewer, bids={first.pk: "rather_not"}, conflict_reasons={},
              user=reviewer.user, now=NOW)
    bids_save(panel_id=panel.pk, reviewer=other, bids={first.pk: "eager"}, conflict_reasons={},
              user=other.user, now=NOW)
    assert [(bid.reviewer.user.email, bid.value) for bid in proposal_bids(panel, first)] == [
        ("alan@lab.example.org", "eager"), ("rita@lab.example.org", "rather_not")]


def test_the_reviewers_open_biddings_with_their_progress(setup):
    panel, officer, reviewer, first, _second = setup
    assert bidding_open_for(reviewer.user) == []
    open_bidding(panel, officer)
    bids_save(panel_id=panel.pk, reviewer=reviewer, bids={first.pk: "eager"}, conflict_reasons={},
              user=reviewer.user, now=NOW)
    assert [(p.pk, p.marked, p.proposal_count) for p in bidding_open_for(reviewer.user)] == [(panel.pk, 1, 2)]
    assert bidding_open_for(officer) == []


# --- The pages --------------------------------------------------------------------------------------------


def bids_url(panel):
    return reverse("reviewer:bids", args=[panel.pk])


def test_the_page_shows_titles_and_abstracts_never_the_people(client, setup):
    panel, officer, reviewer, first, _second = setup
    open_bidding(panel, officer)
    client.force_login(reviewer.user)
    page = client.get(bids_url(panel), HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    body = page.content.decode()
    assert first.reference in body and first.title in body and first.abstract.splitlines()[0] in body
    assert first.pi.get_full_name() not in body
    assert first.partner_name not in body
    assert [row.pk for row in page.context["rows"]] == sorted(
        [first.pk, _second.pk], key=lambda pk: Proposal.objects.get(pk=pk).reference)
    assert 'checked' not in body.split('id="bids-form"')[1]  # no bid by default


def test_saving_the_page_then_a_conflict_is_shown_final(client, setup):
    panel, officer, reviewer, first, second = setup
    open_bidding(panel, officer)
    client.force_login(reviewer.user)
    response = client.post(bids_url(panel), {f"bid-{first.pk}": "conflict", f"bid-{second.pk}": "willing",
                                             f"reason-{first.pk}": ""}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400  # the reason is missing: nothing saved, the choices come back
    assert Bid.objects.count() == 0
    body = response.content.decode()
    assert f'name="bid-{second.pk}" value="willing" id="id_bid-{second.pk}_1" checked' in body
    assert f'name="bid-{first.pk}" value="conflict" id="id_bid-{first.pk}_3" checked' in body
    assert "Explain each conflict of interest: " + first.reference + "." in [
        str(m) for m in response.context["messages"]]

    response = client.post(bids_url(panel), {f"bid-{first.pk}": "conflict", f"bid-{second.pk}": "willing",
                                             f"reason-{first.pk}": "Co-author in 2029."}, HTTP_ACCEPT_LANGUAGE="en")
    assert (response.status_code, response["Location"]) == (302, bids_url(panel))
    page = client.get(bids_url(panel))
    rows = {row.pk: row for row in page.context["rows"]}
    assert rows[first.pk].final is True and rows[second.pk].bid == "willing"
    assert page.context["marked"] == 2


def test_a_save_after_bidding_closed_keeps_the_choices(client, setup):
    panel, officer, reviewer, first, _second = setup
    open_bidding(panel, officer)
    client.force_login(reviewer.user)
    panel_bidding_set(panel_id=panel.pk, open=False, user=officer, now=NOW)
    response = client.post(bids_url(panel), {f"bid-{first.pk}": "eager"}, HTTP_ACCEPT_LANGUAGE="fr")
    assert response.status_code == 400
    assert [str(m) for m in response.context["messages"]] == [
        "Les souhaits sur les propositions de ce comité sont clôturés\u00a0: vos choix n'ont pas été enregistrés."]
    assert response.context["form"].data[f"bid-{first.pk}"] == "eager"
    assert Bid.objects.count() == 0
    assert client.get(bids_url(panel)).templates[0].name == "reviews/reviewer/bids_closed.html"


def test_the_search_finds_words_of_the_title_or_abstract(client, setup):
    panel, officer, reviewer, first, second = setup
    Proposal.objects.filter(pk=second.pk).update(title="Something else")  # the live draft: not what is searched
    open_bidding(panel, officer)
    client.force_login(reviewer.user)
    page = client.get(bids_url(panel), {"q": "nothing-like-this"})
    assert page.context["rows"] == []
    page = client.get(bids_url(panel), {"q": first.reference})
    assert [row.pk for row in page.context["rows"]] == [first.pk]


def test_the_list_of_my_reviews_says_bidding_is_open(client, setup):
    panel, officer, reviewer, *_ = setup
    open_bidding(panel, officer)
    client.force_login(reviewer.user)
    page = client.get(reverse("reviewer:assignments"), HTTP_ACCEPT_LANGUAGE="en")
    assert "Proposals marked: 0 of 2." in page.content.decode()
    assert bids_url(panel) in page.content.decode()


def test_the_officer_opens_bidding_and_sees_the_counts(client, setup):
    panel, officer, reviewer, first, _second = setup
    client.force_login(officer)
    response = client.post(reverse("panel:bidding", args=[panel.pk]), {"open": "1"})
    assert response.status_code == 302
    bids_save(panel_id=panel.pk, reviewer=reviewer, bids={first.pk: "eager"}, conflict_reasons={},
              user=reviewer.user, now=NOW)
    page = client.get(reverse("panel:assignments", args=[panel.pk]), HTTP_ACCEPT_LANGUAGE="en")
    assert page.context["bidding"]["open"] is True
    assert [(value, n) for _label, value, n in page.context["bidding"]["counts"]] == [
        ("eager", 1), ("willing", 0), ("rather_not", 0), ("conflict", 0)]
    page = client.get(reverse("panel:proposal", args=[panel.pk, first.pk]), HTTP_ACCEPT_LANGUAGE="en")
    assert [bid.value for bid in page.context["proposal_bids"]] == ["eager"]
    assert "rita@lab.example.org" in page.content.decode()


# --- Query counts -----------------------------------------------------------------------------------------


def test_the_bids_page_queries_do_not_grow_with_the_proposals(client, setup, queries):
    panel, officer, reviewer, first, _second = setup
    open_bidding(panel, officer)
    client.force_login(reviewer.user)
    call = first.call

    def grow(n):
        for _ in range(n):
            proposal = eligible_proposal(unit=first.unit, call=call)
            Bid.objects.create(panel=panel, reviewer=reviewer, proposal=proposal, value="willing", updated_at=NOW)
            Conflict.objects.create(proposal=proposal, reviewer=ReviewerFactory(institute=panel.institute),
                                    source="officer", cause="officer", created_at=NOW)

    # +2 for the co-author rule (the calls, the publications).
    assert queries.at_sizes(grow, lambda: client.get(bids_url(panel))) == (14, 14)


def test_save_and_next_goes_to_the_next_page_keeping_the_search(client, setup, monkeypatch):
    panel, officer, reviewer, first, second = setup
    monkeypatch.setattr("reviews.domain.bids.BIDS_PER_PAGE", 1)
    open_bidding(panel, officer)
    client.force_login(reviewer.user)
    [shown] = client.get(bids_url(panel), {"q": "COAST"}).context["rows"]
    response = client.post(bids_url(panel), {"q": "COAST", "page": "1", f"bid-{shown.pk}": "eager", "next": "1"})
    assert (response.status_code, response["Location"]) == (302, f"{bids_url(panel)}?q=COAST&page=2")
    [following] = client.get(response["Location"]).context["rows"]
    assert {shown.pk, following.pk} == {first.pk, second.pk}
    assert list(Bid.objects.values_list("proposal_id", "value")) == [(shown.pk, "eager")]
