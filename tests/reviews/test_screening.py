"""Eligibility screening by the directorate: after the deadline only, a reason for ineligibility mailed to
the PI in their language, the automatic result in a constant number of queries and in agreement with the
PI's own checklist."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone, translation

import iea.mail
from calls.domain import call_deadline
from calls.models import CallState
from iea.audit.models import AuditEntry
from proposals.domain import current_letter, proposal_checklist
from proposals.models import Proposal, ProposalState, TeamMember
from reviews.domain.screening import (
    proposal_screen,
    screening_checklists,
    screening_confirm_eligible,
    screening_counts,
    screening_rows,
)
from tests.factories import CallFactory, InstituteFactory, ProposalFactory, UnitFactory, UserFactory

from .staff_factories import closed_call, set_state, submitted_proposal

pytestmark = pytest.mark.django_db


@pytest.fixture
def past_call():
    return closed_call()


@pytest.fixture
def submitted(past_call, pi):
    return submitted_proposal(past_call, pi=pi)


def state_of(proposal) -> str:
    return Proposal.objects.get(pk=proposal.pk).state


# The rules ------------------------------------------------------------------------------------------------


def test_eligible_moves_the_proposal_and_is_audited(submitted, staff, mailoutbox, django_capture_on_commit_callbacks):
    now = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        proposal_screen(proposal_id=submitted.pk, user=staff, eligible=True, reason="", now=now)
    assert state_of(submitted) == ProposalState.ELIGIBLE
    entry = AuditEntry.objects.get(action="proposal.screen")
    assert (entry.actor, entry.from_state, entry.to_state, entry.reason, entry.created_at) == (
        staff, "submitted", "eligible", "", now)
    assert mailoutbox == []


def test_screening_before_the_deadline_is_refused(pi, staff):
    call = CallFactory()  # open, closing in 30 days
    proposal = submitted_proposal(call, pi=pi)
    with pytest.raises(ValidationError) as refused:
        proposal_screen(proposal_id=proposal.pk, user=staff, eligible=True, reason="", now=timezone.now())
    assert refused.value.code == "before_deadline"
    assert "may still change them" in refused.value.messages[0]
    assert state_of(proposal) == ProposalState.SUBMITTED
    assert AuditEntry.objects.filter(action="proposal.screen").count() == 0


def test_the_grace_period_is_part_of_the_deadline(pi, staff):
    now = timezone.now()
    call = CallFactory(state=CallState.CLOSED, opens_at=now - dt.timedelta(days=30),
                       closes_at=now - dt.timedelta(minutes=5), grace_minutes=10)
    proposal = submitted_proposal(call, pi=pi)
    with pytest.raises(ValidationError):
        proposal_screen(proposal_id=proposal.pk, user=staff, eligible=True, reason="", now=now)
    proposal_screen(proposal_id=proposal.pk, user=staff, eligible=True, reason="", now=call_deadline(call))
    assert state_of(proposal) == ProposalState.ELIGIBLE


@pytest.mark.parametrize("reason", ["", "   \n "])
def test_ineligible_needs_a_reason(submitted, staff, reason):
    with pytest.raises(ValidationError) as refused:
        proposal_screen(proposal_id=submitted.pk, user=staff, eligible=False, reason=reason, now=timezone.now())
    assert refused.value.code == "reason"
    assert state_of(submitted) == ProposalState.SUBMITTED


def test_ineligible_mails_the_pi_the_reason_once_committed(
    submitted, staff, mailoutbox, django_capture_on_commit_callbacks
):
    reason = "The support letter is not signed by the partner."
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        proposal_screen(proposal_id=submitted.pk, user=staff, eligible=False, reason=f"  {reason}\n", now=timezone.now())
        assert mailoutbox == []
    assert len(callbacks) == 1
    assert state_of(submitted) == ProposalState.INELIGIBLE
    assert AuditEntry.objects.get(action="proposal.screen").reason == reason
    [message] = mailoutbox
    assert message.to == ["pi@cnrs.example.fr"]
    assert message.subject == f"Proposal {submitted.reference}: not eligible"
    assert "Dear Paula Investigator," in message.body
    assert reason in message.body
    assert "does not meet the call's eligibility rules" in message.body
    html = message.alternatives[0][0]
    assert reason in html


def test_ineligible_mail_is_in_the_pis_language(past_call, staff, mailoutbox, monkeypatch, django_capture_on_commit_callbacks):
    french_pi = UserFactory(email="chercheuse@cnrs.example.fr", full_name="Claire Martin", language="fr")
    proposal = submitted_proposal(past_call, pi=french_pi)
    rendered_in = []
    real = iea.mail.build_message

    def spy(**kwargs):
        rendered_in.append((kwargs["name"], kwargs["language"]))
        with translation.override(kwargs["language"]):
            rendered_in.append(("active", translation.get_language()))
        return real(**kwargs)

    monkeypatch.setattr(iea.mail, "build_message", spy)
    with django_capture_on_commit_callbacks(execute=True):
        proposal_screen(proposal_id=proposal.pk, user=staff, eligible=False, reason="Lettre absente.", now=timezone.now())
    assert rendered_in == [("screening_ineligible", "fr"), ("active", "fr")]
    [message] = mailoutbox
    assert message.to == ["chercheuse@cnrs.example.fr"]
    assert message.body.startswith("Bonjour Claire Martin,")  # the salutation is already in the catalogue
    assert "Lettre absente." in message.body


@pytest.mark.parametrize("state", [ProposalState.DRAFT, ProposalState.ELIGIBLE, ProposalState.INELIGIBLE,
                                   ProposalState.WITHDRAWN, ProposalState.IN_REVIEW])
def test_only_submitted_proposals_are_screened(submitted, staff, state):
    set_state(submitted, state)
    with pytest.raises(ValidationError) as refused:
        proposal_screen(proposal_id=submitted.pk, user=staff, eligible=True, reason="", now=timezone.now())
    assert refused.value.code == "not_submitted"
    assert state_of(submitted) == state


def test_only_staff_screen(submitted, pi):
    with pytest.raises(ValidationError) as refused:
        proposal_screen(proposal_id=submitted.pk, user=pi, eligible=True, reason="", now=timezone.now())
    assert refused.value.code == "forbidden"
    assert state_of(submitted) == ProposalState.SUBMITTED


# The automatic result -------------------------------------------------------------------------------------


def failing(row) -> list[str]:
    return [check.code for check in row.failing]


def test_rows_give_the_automatic_result_with_failing_rules(past_call, staff):
    good = submitted_proposal(past_call, reference="IEA30-AAAA")
    french = submitted_proposal(past_call, reference="IEA30-BBBB", partner_country="FR", letter=False)
    submitted_proposal(past_call, reference="IEA30-CCCC", budget={"mobility": 20000})
    set_state(submitted_proposal(past_call, reference="IEA30-DDDD"), ProposalState.ELIGIBLE)  # already screened
    rows = screening_rows(call=past_call)
    assert [(row.proposal.reference, row.eligible, failing(row)) for row in rows] == [
        ("IEA30-AAAA", True, []),
        ("IEA30-BBBB", False, ["country", "letter"]),
        ("IEA30-CCCC", False, ["budget"]),
    ]
    assert rows[1].failing[0].detail == "The partner must work in a country other than France."
    assert rows[0].proposal == good and rows[1].proposal == french
    assert screening_counts(call=past_call) == {"submitted": 3, "eligible": 1, "ineligible": 0}


def test_a_closed_call_does_not_make_every_proposal_fail_the_deadline_rule(past_call):
    """The call is closed at screening; the rule asks whether the proposal came in time."""
    proposal = submitted_proposal(past_call)
    [row] = screening_rows(call=past_call)
    assert row.eligible
    late = set_state(proposal, ProposalState.SUBMITTED, submitted_at=call_deadline(past_call))
    assert failing(screening_rows(call=past_call)[0]) == ["deadline"]
    assert late.pk == proposal.pk


def variants(call):
    """Proposals that pass and fail each rule, for the comparison with the PI's checklist."""
    institute, other = InstituteFactory(), InstituteFactory()
    unit = UnitFactory(main_institute=institute)
    unit.secondary_institutes.add(other)
    repeat_pi = UserFactory()
    made = [
        submitted_proposal(call),
        submitted_proposal(call, abstract="", keywords=""),
        submitted_proposal(call, partner_country="FR"),
        submitted_proposal(call, partner_country="RU"),
        submitted_proposal(call, partner_country=""),
        submitted_proposal(call, budget={"mobility": 1000}),
        submitted_proposal(call, letter=False),
        submitted_proposal(call, unit=unit, evaluating_institute=other),
        submitted_proposal(call, unit=unit, evaluating_institute=InstituteFactory()),
        submitted_proposal(call, pi=repeat_pi),
        submitted_proposal(call, pi=repeat_pi),
    ]
    no_team = submitted_proposal(call)
    TeamMember.objects.filter(proposal=no_team, side="partner").delete()
    no_unit = set_state(submitted_proposal(call), ProposalState.SUBMITTED, unit=None)
    return [*made, no_team, no_unit]


def test_the_batched_checklist_says_what_the_pis_checklist_says_just_before_the_deadline():
    """Where the call is still "open" (nobody closed it; the deadline is enforced at request time), the
    PI's own checklist evaluated one second before the deadline must agree rule by rule, word for word."""
    call = closed_call(state=CallState.OPEN, excluded_countries=["RU"])
    proposals = variants(call)
    loaded = list(
        Proposal.objects.filter(pk__in=[p.pk for p in proposals])
        .select_related("unit").prefetch_related("team", "budget_lines", "letters", "unit__secondary_institutes")
    )
    batched = screening_checklists(proposals=loaded, call=call)
    just_before = call_deadline(call) - dt.timedelta(seconds=1)
    for proposal in loaded:
        expected = proposal_checklist(proposal, now=just_before, letter=current_letter(proposal))
        assert batched[proposal.pk] == expected, proposal.reference
    outcomes = {tuple(c.code for c in batched[p.pk] if not c.ok) for p in loaded}
    assert outcomes == {(), ("required",), ("country",), ("budget",), ("letter",), ("institute",), ("limit",),
                        ("team",), ("unit",)}


def test_rows_take_a_constant_number_of_queries(past_call, queries):
    def read():
        rows = screening_rows(call=past_call)
        return [(row.eligible, row.proposal.pi.email, row.proposal.institute) for row in rows]

    unit = UnitFactory()
    unit.secondary_institutes.add(InstituteFactory())

    def submit(n):
        for index in range(n):
            # the first of each batch a plain proposal, the others in a unit with a secondary institute
            extra = {"unit": unit, "evaluating_institute": unit.main_institute if index % 2 else None}
            submitted_proposal(past_call, **(extra if index else {}))

    # The seventh reads the proposals' requests for information (#21; tests/reviews/test_information_requests.py).
    assert queries.at_sizes(submit, read, sizes=(3, 30)) == (7, 7)


# Confirming in bulk ---------------------------------------------------------------------------------------


def test_confirm_every_automatically_eligible_proposal(past_call, staff):
    good = [submitted_proposal(past_call) for _ in range(3)]
    bad = submitted_proposal(past_call, letter=False)
    done = set_state(submitted_proposal(past_call), ProposalState.INELIGIBLE)
    assert screening_confirm_eligible(call_id=past_call.pk, user=staff, now=timezone.now()).count == 3
    assert {state_of(p) for p in good} == {ProposalState.ELIGIBLE}
    assert (state_of(bad), state_of(done)) == (ProposalState.SUBMITTED, ProposalState.INELIGIBLE)
    assert AuditEntry.objects.filter(action="proposal.screen", to_state="eligible").count() == 3
    assert screening_confirm_eligible(call_id=past_call.pk, user=staff, now=timezone.now()).count == 0


def test_confirming_in_bulk_waits_for_the_deadline(staff):
    call = CallFactory()
    proposal = submitted_proposal(call)
    with pytest.raises(ValidationError):
        screening_confirm_eligible(call_id=call.pk, user=staff, now=timezone.now())
    with pytest.raises(ValidationError):
        screening_confirm_eligible(call_id=call.pk, user=ProposalFactory().pi, now=call_deadline(call))
    assert state_of(proposal) == ProposalState.SUBMITTED


# Counts by outcome and the history --------------------------------------------------------------------------


def test_counts_follow_the_screening_outcome_not_the_current_state(past_call, staff):
    """IEA 2026 showed "eligible: 0" once its eight eligible proposals had moved on to review."""
    from reviews.domain.screening import PASSED_SCREENING_STATES

    for state in PASSED_SCREENING_STATES:
        set_state(submitted_proposal(past_call), state)
    set_state(submitted_proposal(past_call), ProposalState.INELIGIBLE)
    set_state(submitted_proposal(past_call), ProposalState.WITHDRAWN)
    submitted_proposal(past_call)
    ProposalFactory(call=past_call)  # a draft never submitted
    assert screening_counts(call=past_call) == {"submitted": 1, "eligible": len(PASSED_SCREENING_STATES),
                                                "ineligible": 1}


def test_history_says_who_screened_what_when_and_why(past_call, staff):
    from reviews.domain.screening import screening_history

    other_staff = UserFactory(is_staff=True, full_name="Inès Contrôle")
    good, bad = submitted_proposal(past_call), submitted_proposal(past_call)
    elsewhere = submitted_proposal(closed_call())
    first, second = timezone.now(), timezone.now() + dt.timedelta(minutes=5)
    proposal_screen(proposal_id=good.pk, user=staff, eligible=True, reason="", now=first)
    proposal_screen(proposal_id=bad.pk, user=other_staff, eligible=False, reason="Letter unsigned.", now=second)
    proposal_screen(proposal_id=elsewhere.pk, user=staff, eligible=True, reason="", now=second)
    Proposal.objects.filter(pk=good.pk).update(state=ProposalState.IN_REVIEW)  # moved on: still in the history
    history = screening_history(call=past_call)
    assert [(e.proposal, e.actor, e.at, e.eligible, e.reason) for e in history] == [
        (bad, other_staff, second, False, "Letter unsigned."),
        (good, staff, first, True, ""),
    ]


def test_history_query_count_does_not_grow(past_call, staff, queries):
    from reviews.domain.screening import screening_history

    def screen(n):
        for _ in range(n):
            proposal = submitted_proposal(past_call)
            proposal_screen(proposal_id=proposal.pk, user=staff, eligible=True, reason="", now=timezone.now())

    assert queries.at_sizes(screen, lambda: screening_history(call=past_call), sizes=(1, 4)) == (2, 2)
    assert len(screening_history(call=past_call)) == 4
