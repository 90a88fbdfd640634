"""Next actions from one place (iea.next_actions): what each role should do now, with its due date, its
urgency and its link, in a constant number of queries; and where each role lands after signing in."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from funding.domain.reports import report_due
from funding.models import ReportPeriod, ReportState, Tranche, TrancheState
from iea.next_actions import OFFICER, PI, ROLES, STAFF, UNIT_MANAGER, Urgency, next_actions, urgency_of
from proposals.models import PartnerInvitation, Proposal, ProposalState
from reviews.models import AssignmentState, Panel, PanelRecommendation
from tests.factories import CallFactory, ProposalFactory, StaffFactory, UserFactory
from tests.funding.factories import award_factory, make_unit_manager
from tests.reviews.factories import AssignmentFactory, ReviewerFactory, eligible_proposal
from tests.reviews.staff_factories import closed_call, set_state, submitted_proposal

pytestmark = pytest.mark.django_db


def kinds(actions) -> list[str]:
    return [action.kind for action in actions]


def year1(award):
    return award.reports.get(period=ReportPeriod.YEAR_1)


# Urgency and order -------------------------------------------------------------------------------------------


def test_urgency_counts_from_now():
    now = timezone.now()
    assert [urgency_of(due, now=now) for due in (now - dt.timedelta(seconds=1), now + dt.timedelta(days=3),
                                                 now + dt.timedelta(days=30), None)] == [
        Urgency.OVERDUE, Urgency.SOON, Urgency.NORMAL, Urgency.NORMAL]
    today = timezone.localdate(now)
    assert [urgency_of(day, now=now) for day in (today - dt.timedelta(days=1), today, today + dt.timedelta(days=8))] == [
        Urgency.OVERDUE, Urgency.SOON, Urgency.NORMAL]


def test_anonymous_has_nothing_to_do():
    from django.contrib.auth.models import AnonymousUser

    assert next_actions(AnonymousUser(), now=timezone.now()) == []


# PI ------------------------------------------------------------------------------------------------------------


def test_pi_drafts_letters_and_changes_not_resubmitted(pi):
    now = timezone.now()
    call = CallFactory()
    draft = ProposalFactory(call=call, pi=pi, acronym="DRAFT")
    invited = ProposalFactory(call=CallFactory(), pi=pi, acronym="INVITED")
    PartnerInvitation.objects.create(proposal=invited, email="p@example.org", created_at=now, created_by=pi,
                                     expires_at=now + dt.timedelta(days=10))
    changed = submitted_proposal(CallFactory(), pi=pi, acronym="CHANGED")
    Proposal.objects.filter(pk=changed.pk).update(has_unsubmitted_changes=True)
    submitted_proposal(CallFactory(), pi=pi)  # submitted, unchanged: nothing to do
    ProposalFactory(call=closed_call(), pi=pi)  # the call closed: nothing can be done
    actions = next_actions(pi, now=now)
    by_kind = {(action.kind, action.url) for action in actions}
    edit = lambda p: reverse("proposals:edit", kwargs={"pk": p.pk})  # noqa: E731
    assert by_kind == {
        ("submit_draft", edit(draft)), ("invite_partner", edit(draft)),
        ("submit_draft", edit(invited)), ("letter_missing", edit(invited)),
        ("resubmit", edit(changed)),
    }
    resubmit = next(action for action in actions if action.kind == "resubmit")
    assert resubmit.text == "You changed “CHANGED” since submitting it: submit it again before the deadline so the changes count."
    assert resubmit.due == changed.call.closes_at
    assert {action.role for action in actions} == {PI}


def test_pi_overdue_report_comes_first(pi, staff):
    award = award_factory(pi=pi, staff=staff, acronym="FUNDED")
    due = report_due(award, ReportPeriod.YEAR_1)
    ProposalFactory(call=CallFactory(closes_at=timezone.now() + dt.timedelta(days=400),
                                     opens_at=timezone.now() - dt.timedelta(days=1)), pi=pi, acronym="LATER")
    far = timezone.now()
    assert "report_due" not in kinds(next_actions(pi, now=far))  # a year ahead: not yet
    soon = dt.datetime.combine(due - dt.timedelta(days=5), dt.time(12), tzinfo=timezone.get_current_timezone())
    [report] = [a for a in next_actions(pi, now=soon) if a.kind.startswith("report")]
    assert (report.kind, report.urgency, report.due) == ("report_due", Urgency.SOON, due)
    late = dt.datetime.combine(due + dt.timedelta(days=20), dt.time(12), tzinfo=timezone.get_current_timezone())
    actions = next_actions(pi, now=late)
    assert actions[0].kind == "report_overdue"
    assert actions[0].urgency == Urgency.OVERDUE
    assert actions[0].text == "The year 1 report of “FUNDED” is overdue: write it and submit it."
    assert actions[0].url == reverse("funding:report", kwargs={"pk": award.pk, "period": "year1"})


def test_pi_report_waiting_for_the_partners_cosignature_and_changes_requested(pi, staff):
    award = award_factory(pi=pi, staff=staff, acronym="COSIGN")
    report = year1(award)
    report.state = ReportState.SUBMITTED
    report.save(update_fields=["state"])
    [action] = next_actions(pi, now=timezone.now())
    assert (action.kind, action.url) == ("report_cosignature", reverse("funding:award", kwargs={"pk": award.pk}))
    assert "waits for the partner's co-signature" in action.text
    report.state = ReportState.CHANGES_REQUESTED
    report.save(update_fields=["state"])
    late = timezone.now() + dt.timedelta(days=500)
    assert kinds(a for a in next_actions(pi, now=late) if a.url.endswith("year1/")) == ["report_changes"]


# Reviewer and officer --------------------------------------------------------------------------------------


def test_reviewer_invitations_and_reviews_by_due_date():
    now = timezone.now()
    reviewer = ReviewerFactory()
    late = AssignmentFactory(reviewer=reviewer, proposal=eligible_proposal(acronym="LATE"),
                             due_at=now - dt.timedelta(days=1))
    invited = AssignmentFactory(reviewer=reviewer, proposal=eligible_proposal(acronym="ASKED"),
                                state=AssignmentState.INVITED, due_at=now + dt.timedelta(days=3))
    due = AssignmentFactory(reviewer=reviewer, proposal=eligible_proposal(acronym="DUE"), due_at=now + dt.timedelta(days=20))
    AssignmentFactory(reviewer=reviewer, state=AssignmentState.DECLINED)
    actions = next_actions(reviewer.user, now=now)
    assert [(a.kind, a.url, a.urgency) for a in actions] == [
        ("review_overdue", reverse("reviewer:review", kwargs={"pk": late.pk}), Urgency.OVERDUE),
        ("review_invitation", reverse("reviewer:invitation", kwargs={"pk": invited.pk}), Urgency.SOON),
        ("review_due", reverse("reviewer:review", kwargs={"pk": due.pk}), Urgency.NORMAL),
    ]


def test_officer_short_of_reviewers_overdue_and_recommendations():
    now = timezone.now()
    officer = UserFactory()
    short = eligible_proposal()
    panel = Panel.objects.create(call=short.call, institute=short.institute, reviews_per_proposal=1)
    panel.officers.add(officer)
    covered = eligible_proposal(call=short.call, unit=short.unit)
    AssignmentFactory(proposal=covered, panel=panel, due_at=now - dt.timedelta(days=2))
    actions = next_actions(officer, now=now, role=OFFICER)
    assert [(a.kind, a.urgency) for a in actions] == [
        ("panel_reviews_overdue", Urgency.OVERDUE), ("panel_short_of_reviewers", Urgency.NORMAL)]
    assert "1 proposal is short of reviewers" in actions[1].text
    assert actions[1].url == reverse("panel:assignments", kwargs={"panel_id": panel.pk})

    from reviews.models import Review, ReviewState

    assignment = covered.assignments.get()
    Review.objects.create(assignment=assignment, proposal=covered, reviewer=assignment.reviewer,
                          state=ReviewState.SUBMITTED, created_at=now, updated_at=now, submitted_at=now)
    Proposal.objects.filter(pk=covered.pk).update(state=ProposalState.IN_REVIEW)
    actions = next_actions(officer, now=now, role=OFFICER)
    assert kinds(actions) == ["panel_short_of_reviewers", "panel_recommendations"]
    PanelRecommendation.objects.create(proposal=covered, panel=panel, recommendation="fund", updated_at=now)
    assert kinds(next_actions(officer, now=now, role=OFFICER)) == ["panel_short_of_reviewers"]


# Staff and unit manager ------------------------------------------------------------------------------------


def test_staff_screening_decisions_reports_and_tranches(staff):
    now = timezone.now()
    past = closed_call(year=2026)
    for _ in range(2):
        submitted_proposal(past)
    submitted_proposal(CallFactory())  # still open: not screened yet
    ranked = set_state(submitted_proposal(past), ProposalState.RANKED)
    panel = Panel.objects.create(call=past, institute=ranked.institute)
    PanelRecommendation.objects.create(proposal=ranked, panel=panel, recommendation="fund", updated_at=now)
    award = award_factory(staff=staff)
    report = year1(award)
    report.state = ReportState.COSIGNED
    report.save(update_fields=["state"])
    actions = next_actions(staff, now=now, role=STAFF)
    assert [(a.kind, a.text) for a in actions if a.urgency == Urgency.NORMAL] == [
        ("proposals_to_screen", f"{past.title}: 2 proposals to screen."),
        ("decisions_to_take", f"{past.title}: 1 recommended proposal waits for a decision."),
        ("reports_to_approve", "1 co-signed report waits for your approval."),
    ]
    assert actions[0].url == reverse("admin:reviews_screening", args=[past.pk])
    # Tranche 1 falls due at the award's start; tranche 2 waits for the approved year-1 report.
    start = dt.datetime.combine(award.start_date, dt.time(12), tzinfo=timezone.get_current_timezone())
    assert [a.text for a in next_actions(staff, now=start, role=STAFF) if a.kind == "tranches_to_release"] == [
        "1 tranche may be released."]
    [late] = [a for a in next_actions(staff, now=start + dt.timedelta(days=3), role=STAFF)
              if a.kind == "tranches_to_release"]
    assert (late.due, late.urgency) == (award.start_date, Urgency.OVERDUE)
    Tranche.objects.filter(award=award, number=1).update(state=TrancheState.RELEASED)
    later = start + dt.timedelta(days=400)
    assert "tranches_to_release" not in kinds(next_actions(staff, now=later, role=STAFF))
    report.state = ReportState.APPROVED
    report.save(update_fields=["state"])
    assert "tranches_to_release" in kinds(next_actions(staff, now=later, role=STAFF))


def test_unit_manager_tranche_receipt_and_spending(staff):
    award = award_factory(staff=staff, acronym="UNIT")
    manager = make_unit_manager(award)
    assert next_actions(manager, now=timezone.now(), role=UNIT_MANAGER) == []
    Tranche.objects.filter(award=award, number=1).update(state=TrancheState.RELEASED, decided_at=timezone.now())
    due = report_due(award, ReportPeriod.YEAR_1)
    late = dt.datetime.combine(due + dt.timedelta(days=1), dt.time(12), tzinfo=timezone.get_current_timezone())
    actions = next_actions(manager, now=late, role=UNIT_MANAGER)
    assert [(a.kind, a.url) for a in actions] == [
        ("spending_to_record", reverse("funding:unit_award", kwargs={"pk": award.pk})),
        ("tranche_receipt", reverse("funding:unit_award", kwargs={"pk": award.pk})),
    ]
    assert actions[1].text == "Confirm that tranche 1 of “UNIT” was received."


def test_an_award_to_accept_then_to_cancel_once_declined(pi, staff):
    """The PI answers an award by its deadline; a declined award is the directorate's to cancel (its amount
    returns to the reserve list), like one not accepted in time."""
    from funding.domain.acceptance import award_decline

    award = award_factory(staff=staff, pi=pi, accepted=False)
    now = timezone.now()
    [action] = [a for a in next_actions(pi, now=now) if a.kind == "award_to_accept"]
    assert (action.due, action.url) == (award.accept_by, reverse("funding:award", kwargs={"pk": award.pk}) + "#acceptance")
    assert "awards_to_cancel" not in kinds(next_actions(staff, now=now))
    late = award.accept_by + dt.timedelta(minutes=1)
    assert [a.urgency for a in next_actions(pi, now=late) if a.kind == "award_to_accept"] == [Urgency.OVERDUE]
    assert [a.text for a in next_actions(staff, now=late) if a.kind == "awards_to_cancel"] == [
        "1 award was declined or not accepted in time: cancel it to give its amount to the reserve list."]
    award_decline(award_id=award.pk, user=pi, reason="I moved to another institution.", now=now)
    assert "award_to_accept" not in kinds(next_actions(pi, now=now))
    assert "awards_to_cancel" in kinds(next_actions(staff, now=now))


def test_a_role_not_held_gives_nothing(pi):
    assert next_actions(pi, now=timezone.now(), role=STAFF) == []


# Constant queries -----------------------------------------------------------------------------------------


NEXT_ACTION_QUERIES = {STAFF: (10, 10), OFFICER: (10, 10), "reviewer": (5, 5), UNIT_MANAGER: (6, 6), PI: (4, 4)}


@pytest.mark.parametrize("role", ROLES)
def test_query_count_does_not_grow(role, queries):
    """Each role's actions at one and at four items of each kind: the same number of queries."""
    now = timezone.now()
    staff = StaffFactory()
    user = StaffFactory() if role == STAFF else UserFactory()
    reviewer = ReviewerFactory(user=user) if role == "reviewer" else None
    closed = closed_call()

    def add_items():
        award = award_factory(staff=staff, pi=user)
        award_factory(staff=staff, pi=user, accepted=False)
        if role == UNIT_MANAGER:
            make_unit_manager(award, user)
            Tranche.objects.filter(award=award, number=1).update(state=TrancheState.RELEASED, decided_at=now)
        ProposalFactory(pi=user, call=CallFactory())
        submitted_proposal(closed)
        proposal = set_state(submitted_proposal(closed), ProposalState.ELIGIBLE)
        panel, _created = Panel.objects.get_or_create(call=closed, institute=proposal.institute)
        if role == OFFICER:
            panel.officers.add(user)
        AssignmentFactory(proposal=proposal, panel=panel, reviewer=reviewer or ReviewerFactory(),
                          due_at=now - dt.timedelta(days=1))

    def actions():
        user.__dict__.pop("_iea_roles", None)
        return next_actions(user, now=now + dt.timedelta(days=400))

    def add(n):
        for _ in range(n):
            add_items()

    assert queries.at_sizes(add, actions, sizes=(1, 4)) == NEXT_ACTION_QUERIES[role]
    assert len(actions()) > 0
