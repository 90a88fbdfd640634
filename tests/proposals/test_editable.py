"""``proposal_editable`` and ``proposal_edit_refusal``: the one answer to "can this proposal be changed now",
for each state and at each edge of the call's window (the deadline, grace included, is the first instant
refused)."""

import datetime as dt

import pytest
from django.utils import translation

from calls.models import Call, CallState
from proposals.domain import proposal_edit_refusal, proposal_editable
from proposals.models import Proposal, ProposalState

SECOND = dt.timedelta(seconds=1)
OPENS = dt.datetime(2027, 5, 31, 22, 0, tzinfo=dt.UTC)
CLOSES = dt.datetime(2027, 9, 30, 11, 0, tzinfo=dt.UTC)  # 13:00 Paris summer time
INSIDE = CLOSES - dt.timedelta(days=1)


def proposal(state=ProposalState.DRAFT, *, call_state=CallState.OPEN, grace_minutes=0) -> Proposal:
    """An unsaved proposal in an unsaved call: the rule reads no database."""
    call = Call(year=2027, state=call_state, opens_at=OPENS, closes_at=CLOSES, grace_minutes=grace_minutes)
    return Proposal(call=call, state=state)


@pytest.mark.parametrize("state", [ProposalState.DRAFT, ProposalState.SUBMITTED])
def test_a_draft_or_a_submitted_proposal_is_editable_while_the_call_is_open(state):
    assert (proposal_editable(proposal(state), now=INSIDE), proposal_edit_refusal(proposal(state), now=INSIDE)) == (
        True, "")


@pytest.mark.parametrize("state", sorted(set(ProposalState.values) - {ProposalState.DRAFT, ProposalState.SUBMITTED}))
def test_every_later_state_is_not_editable_even_inside_the_window(state):
    refused = proposal(state)

    with translation.override("en"):
        refusal = proposal_edit_refusal(refused, now=INSIDE)
    assert proposal_editable(refused, now=INSIDE) is False
    assert refusal == f"This proposal is {refused.get_state_display().lower()} and can no longer be changed."


@pytest.mark.parametrize(("now", "editable"), [
    (OPENS - SECOND, False),
    (OPENS, True),
    (CLOSES - SECOND, True),
    (CLOSES, False),
    (CLOSES + SECOND, False),
])
def test_the_window_opens_inclusive_and_closes_exclusive(now, editable):
    assert proposal_editable(proposal(), now=now) is editable


@pytest.mark.parametrize(("now", "editable"), [
    (CLOSES + dt.timedelta(minutes=15) - SECOND, True),
    (CLOSES + dt.timedelta(minutes=15), False),
])
def test_the_grace_period_extends_the_window_to_its_last_second(now, editable):
    assert proposal_editable(proposal(grace_minutes=15), now=now) is editable


@pytest.mark.parametrize("call_state", sorted(set(CallState.values) - {CallState.OPEN}))
def test_a_call_that_is_not_open_refuses_changes_inside_its_dates(call_state):
    assert proposal_editable(proposal(call_state=call_state), now=INSIDE) is False


def test_after_the_deadline_the_refusal_names_it_in_paris_time():
    with translation.override("en"):
        refusal = proposal_edit_refusal(proposal(ProposalState.SUBMITTED), now=CLOSES)

    assert refusal == (
        "The call closed on 30\u00a0September 2027, 13:00 (Paris time); the proposal can no longer be changed.")
