"""Conflicts of a whole panel at once (the automatic assignment): the index finds every pair the rules find a
conflict in, and recording them in bulk stores, withdraws and audits what one pair at a time would."""

import pytest
from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st

import reviews.domain.conflicts as conflicts_module
from calls.models import Unit
from iea.accounts.models import User
from iea.audit.models import AuditEntry
from proposals.models import Proposal, TeamMember
from reviews.domain.conflicts import (
    conflict_candidates,
    conflicts_detect,
    conflicts_record_detected,
    conflicts_record_detected_all,
)
from reviews.models import AssignmentState, Conflict, Reviewer
from tests.factories import ProposalFactory, UnitFactory, UserFactory

from .factories import AssignmentFactory, PanelFactory

NOW = timezone.now()

# Few values, so that pairs share them often: every rule of conflicts_detect fires in some examples.
UNITS = [Unit(pk=1, unit_type="UMR", number="5558"), Unit(pk=2, unit_type="UPR", number="0042"),
         Unit(pk=3, unit_type="IRL", number="2009")]
EMAILS = ["ana@usp.example.br", "ANA@usp.example.br", "rita@lab.example.org", "bob@gmail.com", "joe@usp.example.br", ""]
NAMES = ["Ana Souza", "ana  souza", "Rita Reviewer", "Bob", "", "---"]
INSTITUTIONS = ["Universidade de São Paulo", "universidade de sao paulo", "MIT", "", "--"]
MEMBER_PLACES = ["UMR 5558", "umr5558 lab", "UPR-42", "IRL 2009 and UMR 5558", "Somewhere", ""]


@st.composite
def people(draw):
    """Proposals (with teams) and reviewers as ``conflicts_detect`` reads them, not saved."""
    proposals = []
    for i in range(draw(st.integers(1, 4))):
        unit = draw(st.sampled_from([None, *UNITS]))
        proposal = Proposal(pk=100 + i, pi_id=draw(st.sampled_from([1, 2, 3])), unit=unit,
                            partner_email=draw(st.sampled_from(EMAILS)), partner_name=draw(st.sampled_from(NAMES)),
                            partner_institution=draw(st.sampled_from(INSTITUTIONS)))
        team = [TeamMember(proposal=proposal, side=draw(st.sampled_from(["cnrs", "partner"])),
                           name=draw(st.sampled_from(NAMES)), email=draw(st.sampled_from(EMAILS)),
                           institution=draw(st.sampled_from(MEMBER_PLACES)))
                for _ in range(draw(st.integers(0, 3)))]
        proposal._prefetched_objects_cache = {"team": team}
        proposals.append(proposal)
    reviewers = []
    for j in range(draw(st.integers(1, 5))):
        user = User(pk=draw(st.sampled_from([1, 2, 3, 4, 5])), email=draw(st.sampled_from([e for e in EMAILS if e])),
                    full_name=draw(st.sampled_from(NAMES)))
        reviewers.append(Reviewer(pk=500 + j, user=user, unit=draw(st.sampled_from([None, *UNITS])),
                                  institution=draw(st.sampled_from(INSTITUTIONS))))
    return proposals, reviewers


@settings(max_examples=300, deadline=None)
@given(people())
def test_the_index_finds_every_pair_the_rules_find_a_conflict_in(panel):
    proposals, reviewers = panel
    conflicted = {(p.pk, r.pk) for p in proposals for r in reviewers if conflicts_detect(proposal=p, reviewer=r)}
    assert conflicted <= conflict_candidates(proposals, reviewers)


def test_the_index_leaves_out_pairs_that_share_nothing():
    proposal = Proposal(pk=1, pi_id=1, unit=UNITS[0], partner_email="ana@usp.example.br", partner_name="Ana Souza",
                        partner_institution="Universidade de São Paulo")
    proposal._prefetched_objects_cache = {"team": []}
    stranger = Reviewer(pk=2, user=User(pk=9, email="zed@elsewhere.org", full_name="Zed"), unit=UNITS[1])
    assert conflict_candidates([proposal], [stranger]) == set()


# --- Recording them ----------------------------------------------------------------------------------------


def panel_people(call):
    """Two proposals of one unit, four reviewers: two in the unit (one also at the partner's domain), two not."""
    unit = UnitFactory(unit_type="UMR", number="5558")
    proposals = [ProposalFactory(call=call, complete=True, unit=unit, partner_email=f"p{i}@usp.example.br")
                 for i in range(2)]
    reviewers = []
    for name, its_unit, domain in (("anna", unit, "usp.example.br"), ("boris", unit, "lab.example.org"),
                                   ("chen", None, "lab.example.org"), ("dara", None, "other.example.org")):
        reviewers.append(Reviewer.objects.create(user=UserFactory(email=f"{name}@{domain}"),
                                                 institute=unit.main_institute, unit=its_unit))
    loaded = list(Proposal.objects.filter(pk__in=[p.pk for p in proposals]).select_related("unit")
                  .prefetch_related("team").order_by("pk"))
    return loaded, list(Reviewer.objects.select_related("user", "unit").order_by("pk"))


@pytest.mark.django_db
def test_recording_a_panels_conflicts_at_once_does_what_one_pair_at_a_time_does(call):
    proposals, reviewers = panel_people(call)
    anna = reviewers[0]
    open_one = AssignmentFactory(proposal=proposals[0], reviewer=anna, state=AssignmentState.INVITED,
                                 panel=PanelFactory(call=call, institute=anna.institute))

    assert conflicts_record_detected_all(proposals=proposals, reviewers=reviewers, now=NOW) == 6

    expected = sorted((p.pk, r.pk, c.cause, c.detail) for p in proposals for r in reviewers
                      for c in conflicts_detect(proposal=p, reviewer=r))
    assert sorted(Conflict.objects.values_list("proposal", "reviewer", "cause", "detail")) == expected
    assert set(Conflict.objects.values_list("source", "created_at")) == {("detected", NOW)}
    open_one.refresh_from_db()
    assert (open_one.state, open_one.responded_at) == (AssignmentState.WITHDRAWN, NOW)
    audited = sorted((e.object_id, e.data["reviewer"], e.data["cause"], e.data["assignments_withdrawn"])
                     for e in AuditEntry.objects.filter(action="review.conflict"))
    # The withdrawal is counted once for the pair, on its first cause.
    assert audited == sorted((str(p), r, cause, 1 if (p, r, cause) == (proposals[0].pk, anna.pk, "same_unit_as_pi") else 0)
                             for p, r, cause, _ in expected)

    # Again: nothing new, nothing recorded, nothing audited.
    assert conflicts_record_detected_all(proposals=proposals, reviewers=reviewers, now=NOW) == 0
    assert (Conflict.objects.count(), AuditEntry.objects.filter(action="review.conflict").count()) == (6, 6)


@pytest.mark.django_db
def test_a_conflict_stored_meanwhile_by_someone_else_is_not_stored_twice(call, monkeypatch):
    """Another request (an assignment by hand) stores one of the pairs' conflicts after this run read what was
    stored: the bulk insert meets the unique constraint, and the run records the rest one pair at a time."""
    proposals, reviewers = panel_people(call)
    real_not_stored_yet = conflicts_module._not_stored_yet
    raced = []

    def another_request_records_meanwhile(*args, **kwargs):
        fresh = real_not_stored_yet(*args, **kwargs)
        first = fresh[0]
        raced.extend(conflicts_record_detected(proposal=first.proposal, reviewer=first.reviewer, now=NOW))
        return fresh

    monkeypatch.setattr(conflicts_module, "_not_stored_yet", another_request_records_meanwhile)
    recorded = conflicts_record_detected_all(proposals=proposals, reviewers=reviewers, now=NOW)

    assert (len(raced), recorded) == (2, 4)  # the other request stored the first pair's two causes
    assert Conflict.objects.count() == AuditEntry.objects.filter(action="review.conflict").count() == 6
