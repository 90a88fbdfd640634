"""What a decision needs (issue #15): the panel's counted reviews and its recommendation, the thresholds for a
selection — or a reason, kept and audited; a decision cleared until its mail is sent, never twice at once; the
mails closing the assignments still waiting for a review. (The thresholds on the panel's side:
tests/reviews/test_thresholds.py.)"""

import itertools
import threading
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from calls.models import Criterion
from funding.domain.decisions import decision_clear, decision_set, decisions_announce
from iea.audit.models import AuditEntry
from proposals.models import Proposal, ProposalState
from reviews.models import (
    Assignment,
    AssignmentState,
    Conflict,
    Decision,
    ReviewState,
)
from reviews.reminders import _waiting
from tests.proposals import test_concurrency as concurrency
from tests.reviews.staff_factories import (
    closed_call,
    make_review,
    make_reviewer,
    panel_for,
    ranked_proposal,
    set_state,
)

pytestmark = pytest.mark.django_db

sqlite_file_copy = concurrency.sqlite_file_copy


def decide(proposal, user, outcome, amount=None, reason=""):
    return decision_set(proposal_id=proposal.pk, user=user, outcome=outcome,
                        amount=None if amount is None else Decimal(amount), now=timezone.now(),
                        override_reason=reason)


def state_of(proposal) -> str:
    return Proposal.objects.get(pk=proposal.pk).state


@pytest.fixture
def past_call():
    return closed_call()


@pytest.fixture
def unreviewed(past_call):
    """In review, 0 of 2 reviews, no recommendation: what the demo let staff reject and mail."""
    proposal = ranked_proposal(past_call, reviews=0)
    proposal.panel_recommendation.delete()
    return set_state(proposal, ProposalState.IN_REVIEW)


# The evaluation a decision needs -----------------------------------------------------------------------------


def test_a_proposal_nobody_reviewed_cannot_be_decided_without_a_reason(unreviewed, staff):
    with pytest.raises(ValidationError) as refused:
        decide(unreviewed, staff, "rejected")
    assert refused.value.code == "incomplete"
    assert refused.value.messages == [
        f"{unreviewed.reference}: 2 of 2 reviews are missing; the panel has not recommended; "
        "give a reason to decide anyway."]
    assert (Decision.objects.count(), state_of(unreviewed)) == (0, ProposalState.IN_REVIEW)
    assert not AuditEntry.objects.filter(action="proposal.decide").exists()


def test_a_blank_reason_is_no_reason(unreviewed, staff):
    with pytest.raises(ValidationError):
        decide(unreviewed, staff, "rejected", reason="   ")


def test_with_a_reason_the_decision_is_taken_and_the_reason_kept_and_audited(unreviewed, staff):
    decision = decide(unreviewed, staff, "rejected", reason="  Out of the programme's scope.  ")
    assert (decision.outcome, decision.override_reason, state_of(unreviewed)) == (
        "rejected", "Out of the programme's scope.", ProposalState.REJECTED)
    entry = AuditEntry.objects.get(action="proposal.decide")
    assert (entry.data["override_reason"], entry.data["overridden"]) == (
        "Out of the programme's scope.", ["2 of 2 reviews are missing", "the panel has not recommended"])


def test_a_complete_evaluation_needs_no_reason_and_keeps_none(past_call, staff):
    proposal = ranked_proposal(past_call)
    decision = decide(proposal, staff, "selected", "12000", reason="not needed")
    assert decision.override_reason == ""
    assert "override_reason" not in AuditEntry.objects.get(action="proposal.decide").data


def test_the_panels_number_of_reviews_counts_and_a_conflicted_review_does_not(past_call, staff):
    proposal = ranked_proposal(past_call, reviews=2)
    panel = panel_for(past_call, proposal.institute)
    panel.reviews_per_proposal = 3
    panel.save()
    with pytest.raises(ValidationError) as refused:
        decide(proposal, staff, "reserve")
    assert "1 of 3 reviews are missing" in refused.value.messages[0]
    panel.reviews_per_proposal = 2
    panel.save()
    review = proposal.reviews.first()
    Conflict.objects.create(proposal=proposal, reviewer=review.reviewer, source="officer", cause="officer",
                            created_at=timezone.now())
    with pytest.raises(ValidationError) as refused:
        decide(proposal, staff, "reserve")
    assert refused.value.messages == [f"{proposal.reference}: 1 of 2 reviews are missing; give a reason to decide anyway."]


def test_a_draft_review_does_not_count(past_call, staff):
    proposal = ranked_proposal(past_call, reviews=1)
    reviewer = make_reviewer(proposal.institute, name="Drafting", email="drafting@example.org")
    make_review(proposal, reviewer, scores=[4] * 6, state=ReviewState.DRAFT)
    with pytest.raises(ValidationError, match="1 of 2 reviews are missing"):
        decide(proposal, staff, "rejected")


def test_a_recommendation_without_a_verdict_is_no_recommendation(past_call, staff):
    proposal = ranked_proposal(past_call, recommendation="", rank=3)
    with pytest.raises(ValidationError, match="the panel has not recommended"):
        decide(proposal, staff, "reserve")


# The thresholds ----------------------------------------------------------------------------------------------


@pytest.fixture
def under_threshold(past_call):
    """Two reviews scoring [4, 3.5, 4, 3, 5, 4]: the fourth criterion's mean, 3, is under its threshold of 3.5."""
    Criterion.objects.filter(call=past_call, position=4).update(threshold=Decimal("3.5"))
    return ranked_proposal(past_call, recommendation="reserve", proposed_amount=None)


def test_a_selection_under_a_criterion_threshold_needs_a_reason(under_threshold, staff):
    label = Criterion.objects.get(call=under_threshold.call, position=4).label
    with pytest.raises(ValidationError) as refused:
        decide(under_threshold, staff, "selected", "12000")
    assert refused.value.messages == [
        f"{under_threshold.reference}: {label}: 3, under the threshold of 3.5; give a reason to decide anyway."]
    assert Decision.objects.count() == 0
    # The thresholds only stand in the way of funding.
    assert decide(under_threshold, staff, "reserve").override_reason == ""
    decision = decide(under_threshold, staff, "selected", "12000", reason="Strong partner; early-career plan agreed.")
    assert (decision.outcome, decision.override_reason) == ("selected", "Strong partner; early-career plan agreed.")
    entry = AuditEntry.objects.filter(action="proposal.decide").latest("pk")
    assert entry.data["overridden"] == [f"{label}: 3, under the threshold of 3.5"]


def test_the_overall_threshold_reads_the_weighted_total(past_call, staff):
    past_call.overall_threshold = Decimal("4")
    past_call.save()
    proposal = ranked_proposal(past_call)  # weighted total of the means: 23.5 / 6 = 3.92
    with pytest.raises(ValidationError, match="overall weighted total: 3.92, under the threshold of 4"):
        decide(proposal, staff, "selected", "12000")
    past_call.overall_threshold = Decimal("3.9")
    past_call.save()
    assert decide(proposal, staff, "selected", "12000").outcome == "selected"


# Clearing a decision ---------------------------------------------------------------------------------------------


def test_clearing_returns_a_recommended_proposal_to_ranked(past_call, staff):
    proposal = ranked_proposal(past_call)
    decide(proposal, staff, "selected", "12000")
    assert decision_clear(proposal_id=proposal.pk, user=staff, now=timezone.now()) == ProposalState.RANKED
    assert (Decision.objects.count(), state_of(proposal)) == (0, ProposalState.RANKED)
    entry = AuditEntry.objects.get(action="proposal.decision_clear")
    assert (entry.from_state, entry.to_state, entry.data) == (
        "selected", "ranked", {"previous": {"outcome": "selected", "amount": "12000.00", "override_reason": ""}})


def test_clearing_returns_an_unrecommended_proposal_to_review(unreviewed, staff):
    decide(unreviewed, staff, "rejected", reason="Out of scope.")
    assert decision_clear(proposal_id=unreviewed.pk, user=staff, now=timezone.now()) == ProposalState.IN_REVIEW
    assert state_of(unreviewed) == ProposalState.IN_REVIEW


def test_a_mailed_decision_cannot_be_cleared(past_call, staff):
    proposal = ranked_proposal(past_call)
    decide(proposal, staff, "rejected")
    decisions_announce(call_id=past_call.pk, user=staff, now=timezone.now())
    with pytest.raises(ValidationError) as refused:
        decision_clear(proposal_id=proposal.pk, user=staff, now=timezone.now())
    assert refused.value.code == "notified"
    assert (Decision.objects.count(), state_of(proposal)) == (1, ProposalState.REJECTED)


def test_only_staff_clear_and_only_a_decision(past_call, staff, pi):
    proposal = ranked_proposal(past_call)
    with pytest.raises(ValidationError) as refused:
        decision_clear(proposal_id=proposal.pk, user=staff, now=timezone.now())
    assert refused.value.code == "no_decision"
    decide(proposal, staff, "reserve")
    with pytest.raises(ValidationError) as refused:
        decision_clear(proposal_id=proposal.pk, user=pi, now=timezone.now())
    assert refused.value.code == "forbidden"
    assert Decision.objects.count() == 1


@pytest.mark.sqlite
@pytest.mark.django_db(transaction=True)
def test_two_staff_clearing_at_once_clear_once(sqlite_file_copy, staff):
    call = closed_call()
    proposal = ranked_proposal(call)
    decide(proposal, staff, "selected", "12000")
    path, copy = sqlite_file_copy
    copy()
    results, errors = concurrency.run_together(
        3, lambda: decision_clear(proposal_id=proposal.pk, user=staff, now=timezone.now()), database=path)
    assert results == [ProposalState.RANKED]
    assert [error.code for error in errors] == ["no_decision", "no_decision"]
    with concurrency._using(concurrency._file_connection(path)):
        assert (Decision.objects.count(), state_of(proposal)) == (0, ProposalState.RANKED)
        assert AuditEntry.objects.filter(action="proposal.decision_clear").count() == 1


@pytest.mark.sqlite
@pytest.mark.django_db(transaction=True)
def test_a_clear_and_a_decision_at_once_stay_consistent(sqlite_file_copy, staff):
    call = closed_call()
    proposal = ranked_proposal(call)
    decide(proposal, staff, "reserve")
    path, copy = sqlite_file_copy
    copy()

    turns = itertools.count()
    lock = threading.Lock()

    def clear_or_select():
        with lock:
            turn = next(turns)
        if turn == 0:
            return decision_clear(proposal_id=proposal.pk, user=staff, now=timezone.now())
        return decide(proposal, staff, "selected", "12000").outcome

    results, errors = concurrency.run_together(2, clear_or_select, database=path)
    assert errors == []
    with concurrency._using(concurrency._file_connection(path)):
        decision = Decision.objects.filter(proposal=proposal).first()
        state = state_of(proposal)
    # Whichever ran last wins, and the proposal's state always matches the decision (or its absence).
    assert (state, decision.outcome if decision else None) in [
        (ProposalState.SELECTED, "selected"), (ProposalState.RANKED, None)]


# Sending closes the assignments still waiting ---------------------------------------------------------------


def test_sending_closes_the_assignments_still_waiting_and_the_reminders_skip_them(past_call, staff):
    proposal = ranked_proposal(past_call)  # two submitted reviews
    other = ranked_proposal(past_call, rank=2)  # not decided: its assignments stay open
    now = timezone.now()
    panel = panel_for(past_call, proposal.institute)
    invited_reviewer = make_reviewer(proposal.institute, name="Invited", email="invited@example.org")
    drafting_reviewer = make_reviewer(proposal.institute, name="Drafting", email="drafting@example.org")
    invited = Assignment.objects.create(panel=panel, proposal=proposal, reviewer=invited_reviewer, due_at=now,
                                        created_at=now)
    drafting = make_review(proposal, drafting_reviewer, scores=[4] * 6, state=ReviewState.DRAFT).assignment
    waiting_elsewhere = Assignment.objects.create(panel=panel, proposal=other, reviewer=invited_reviewer,
                                                  due_at=now, created_at=now)
    decide(proposal, staff, "selected", "12000")
    decisions_announce(call_id=past_call.pk, user=staff, now=now)
    states = dict(Assignment.objects.filter(proposal=proposal).values_list("pk", "state"))
    assert (states[invited.pk], states[drafting.pk]) == (AssignmentState.CLOSED, AssignmentState.CLOSED)
    assert sorted(set(states.values())) == [AssignmentState.ACCEPTED, AssignmentState.CLOSED]  # submitted ones kept
    assert Assignment.objects.get(pk=waiting_elsewhere.pk).state == AssignmentState.INVITED
    entries = AuditEntry.objects.filter(action="review.close")
    assert sorted((e.from_state, e.to_state) for e in entries) == [("accepted", "closed"), ("invited", "closed")]
    set_state(proposal, ProposalState.IN_REVIEW)  # even were the proposal back in review, a closed one waits no more
    assert list(_waiting().filter(proposal=proposal)) == []


def test_sending_twice_closes_nothing_more(past_call, staff):
    proposal = ranked_proposal(past_call)
    decide(proposal, staff, "rejected")
    decisions_announce(call_id=past_call.pk, user=staff, now=timezone.now())
    assert decisions_announce(call_id=past_call.pk, user=staff, now=timezone.now()) == 0
    assert AuditEntry.objects.filter(action="review.close").count() == 0  # both reviews were submitted
