"""Conflicts of interest: detection rules with their causes, declaration, officer's setting, and their effect."""

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from iea.audit.models import AuditEntry
from proposals.models import TeamMember
from reviews.domain.assignment import assignment_create, assignment_respond, panel_get_or_create
from reviews.domain.conflicts import conflict_declare, conflict_set_by_officer, conflicts_detect
from reviews.models import AssignmentState, Conflict, Reviewer
from reviews.rules import is_invited_reviewer, is_reviewing
from tests.factories import ProposalFactory, UnitFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def proposal(call):
    proposal = ProposalFactory(call=call, complete=True, partner_email="ana@usp.example.br",
                               partner_institution="Universidade de São Paulo")
    type(proposal).objects.filter(pk=proposal.pk).update(state="eligible")
    proposal.refresh_from_db()
    return proposal


def reviewer(proposal, *, email="rev@example.org", name="Rita Reviewer", unit=None, institution=""):
    user = UserFactory(email=email, full_name=name)
    return Reviewer.objects.create(user=user, institute=proposal.unit.main_institute, unit=unit, institution=institution)


def causes(proposal, reviewer_):
    return sorted(c.cause for c in conflicts_detect(proposal=proposal, reviewer=reviewer_))


def test_no_conflict_for_a_stranger(proposal):
    assert causes(proposal, reviewer(proposal)) == []


def test_reviewer_in_the_pis_unit(proposal):
    assert causes(proposal, reviewer(proposal, unit=proposal.unit)) == ["same_unit_as_pi"]


def test_reviewer_in_a_team_members_unit(proposal):
    unit = UnitFactory(unit_type="UMR", number="7154")
    TeamMember.objects.create(proposal=proposal, side="cnrs", name="Jean Dupont", institution="umr7154 IPGP")
    assert causes(proposal, reviewer(proposal, unit=unit)) == ["same_unit_as_member"]


def test_reviewer_is_a_team_member_by_email_or_name(proposal):
    TeamMember.objects.create(proposal=proposal, side="partner", name="Bruno Álvares", email="bruno@x.example")
    assert causes(proposal, reviewer(proposal, email="BRUNO@x.example", name="Someone")) == ["is_team_member"]
    assert causes(proposal, reviewer(proposal, email="other@y.example", name="bruno alvares")) == ["is_team_member"]


def test_reviewer_is_the_partner_or_at_the_partners_institution_or_domain(proposal):
    assert causes(proposal, reviewer(proposal, email="ana@usp.example.br", name="Ana")) == [
        "is_partner", "partner_email_domain"]
    assert causes(proposal, reviewer(proposal, email="x@elsewhere.org", institution="universidade de sao paulo")) == [
        "partner_institution"]
    assert causes(proposal, reviewer(proposal, email="colleague@usp.example.br")) == ["partner_email_domain"]


def test_public_mail_domains_are_not_a_conflict(proposal):
    type(proposal).objects.filter(pk=proposal.pk).update(partner_email="ana@gmail.com")
    proposal.refresh_from_db()
    assert causes(proposal, reviewer(proposal, email="someone@gmail.com")) == []


def test_assignment_refuses_a_detected_conflict_and_records_it(proposal, staff):
    panel = panel_get_or_create(call=proposal.call, institute=proposal.unit.main_institute, now=timezone.now())
    conflicted = reviewer(proposal, unit=proposal.unit)
    with pytest.raises(ValidationError) as refused:
        assignment_create(panel=panel, proposal=proposal, reviewer=conflicted, user=staff, now=timezone.now())
    assert "belongs to the PI's unit" in refused.value.messages[0]
    assert list(Conflict.objects.values_list("cause", "source")) == [("same_unit_as_pi", "detected")]
    assert proposal.assignments.count() == 0


def test_declared_conflict_removes_access_at_once(proposal, staff):
    now = timezone.now()
    panel = panel_get_or_create(call=proposal.call, institute=proposal.unit.main_institute, now=now)
    rev = reviewer(proposal)
    assignment = assignment_create(panel=panel, proposal=proposal, reviewer=rev, user=staff, now=now)
    proposal.refresh_from_db()
    assert proposal.state == "in_review"
    assert is_invited_reviewer(rev.user, proposal) is True
    assignment_respond(assignment_id=assignment.pk, user=rev.user, accept=True, now=now)
    assert is_reviewing(rev.user, proposal) is True
    conflict_declare(proposal_id=proposal.pk, reviewer=rev, user=rev.user, reason="Former PhD advisor", now=now)
    assert (is_reviewing(rev.user, proposal), is_invited_reviewer(rev.user, proposal)) == (False, False)
    assignment.refresh_from_db()
    assert assignment.state == AssignmentState.WITHDRAWN
    assert AuditEntry.objects.filter(action="review.conflict", object_id=str(proposal.pk)).count() == 1
    # Declaring twice is harmless.
    conflict_declare(proposal_id=proposal.pk, reviewer=rev, user=rev.user, reason="again", now=now)
    assert Conflict.objects.filter(source="declared").count() == 1


def test_only_the_reviewer_declares_and_only_when_assigned(proposal, staff, other_pi):
    rev = reviewer(proposal)
    with pytest.raises(ValidationError):
        conflict_declare(proposal_id=proposal.pk, reviewer=rev, user=other_pi, reason="", now=timezone.now())
    with pytest.raises(ValidationError):
        conflict_declare(proposal_id=proposal.pk, reviewer=rev, user=rev.user, reason="", now=timezone.now())


def test_officer_sets_a_conflict_with_a_reason(proposal, staff):
    rev = reviewer(proposal)
    with pytest.raises(ValidationError):
        conflict_set_by_officer(proposal_id=proposal.pk, reviewer=rev, user=staff, reason=" ", now=timezone.now())
    conflict = conflict_set_by_officer(proposal_id=proposal.pk, reviewer=rev, user=staff, reason="Co-author in 2025",
                                       now=timezone.now())
    assert (conflict.source, conflict.detail, conflict.created_by) == ("officer", "Co-author in 2025", staff)


def test_decline_needs_a_reason_and_answers_once(proposal, staff):
    now = timezone.now()
    panel = panel_get_or_create(call=proposal.call, institute=proposal.unit.main_institute, now=now)
    rev = reviewer(proposal)
    assignment = assignment_create(panel=panel, proposal=proposal, reviewer=rev, user=staff, now=now)
    with pytest.raises(ValidationError):
        assignment_respond(assignment_id=assignment.pk, user=rev.user, accept=False, reason="", now=now)
    assignment_respond(assignment_id=assignment.pk, user=rev.user, accept=False, reason="On leave", now=now)
    with pytest.raises(ValidationError):
        assignment_respond(assignment_id=assignment.pk, user=rev.user, accept=True, now=now)
    assignment.refresh_from_db()
    assert (assignment.state, assignment.decline_reason) == ("declined", "On leave")


def test_only_eligible_proposals_go_to_review(call, staff):
    draft = ProposalFactory(call=call, complete=True)
    panel = panel_get_or_create(call=call, institute=draft.unit.main_institute, now=timezone.now())
    with pytest.raises(ValidationError) as refused:
        assignment_create(panel=panel, proposal=draft, reviewer=reviewer(draft), user=staff, now=timezone.now())
    assert refused.value.code == "not_eligible"


def test_names_and_institutions_in_any_script_are_compared_not_dropped(proposal):
    """A name written in Cyrillic or Greek folds to itself (case and accents aside), not to nothing: it
    matches the same name, never another one, alone and in a panel's bulk run."""
    from reviews.domain.conflicts import conflicts_record_detected_all

    TeamMember.objects.create(proposal=proposal, side="partner", name="Ивана Петрова", email="ivana@x.example")
    type(proposal).objects.filter(pk=proposal.pk).update(partner_name="Ελένη Παπαδοπούλου",
                                                          partner_institution="Πανεπιστήμιο Αθηνών")
    proposal.refresh_from_db()
    same_member = reviewer(proposal, email="a@y.example", name="ИВАНА ПЕТРОВА")
    same_partner = reviewer(proposal, email="b@y.example", name="ελένη παπαδοπουλου")
    same_institution = reviewer(proposal, email="c@y.example", name="Other", institution="ΠΑΝΕΠΙΣΤΗΜΙΟ ΑΘΗΝΩΝ")
    stranger = reviewer(proposal, email="d@y.example", name="Иван Сидоров", institution="Πανεπιστήμιο Κρήτης")
    assert causes(proposal, same_member) == ["is_team_member"]
    assert causes(proposal, same_partner) == ["is_partner"]
    assert causes(proposal, same_institution) == ["partner_institution"]
    assert causes(proposal, stranger) == []
    reviewers = list(Reviewer.objects.select_related("user", "unit").order_by("pk"))
    proposals = list(type(proposal).objects.filter(pk=proposal.pk).select_related("unit").prefetch_related("team"))
    assert conflicts_record_detected_all(proposals=proposals, reviewers=reviewers, now=timezone.now()) == 3
    assert sorted(Conflict.objects.values_list("reviewer", "cause")) == [
        (same_member.pk, "is_team_member"), (same_partner.pk, "is_partner"),
        (same_institution.pk, "partner_institution")]
