"""The automatic assignment of a panel as a background job: what it assigns (coverage, conflicts, loads,
expertise, what counts), how it runs (one at a time, phases reported, recorded once however often the task
is delivered, a stalled run taken over and unable to record, a panel that changes meanwhile) and how it fails
(every failure said, nothing half-assigned)."""

import datetime as dt
from collections import Counter

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone, translation

import reviews.domain.assignment_job as job_module
import reviews.domain.auto_assign as auto_assign_module
from iea.audit.models import AuditEntry
from proposals.models import Proposal
from reviews.domain.assignment import assignment_create
from reviews.domain.assignment_job import (
    RUN_TASK,
    assignment_job_run,
    assignment_job_start,
    assignment_job_view,
)
from reviews.domain.auto_assign import shortfall_of
from reviews.models import (
    JOB_STALLED_AFTER,
    Assignment,
    AssignmentJob,
    AssignmentJobState,
    AssignmentState,
    Conflict,
    Panel,
    Review,
    Reviewer,
    ReviewState,
)
from reviews.tasks import run_assignment_job
from tests.factories import CallFactory, InstituteFactory, ProposalFactory, UnitFactory, UserFactory
from tests.proposals.test_concurrency import run_together

pytestmark = pytest.mark.django_db

NOW = timezone.now().replace(microsecond=0)


def at(seconds: float):
    return lambda: NOW + dt.timedelta(seconds=seconds)


class Setting:
    """An institute's panel (N = 2), its units, its officer, and helpers to add proposals and reviewers."""

    def __init__(self, n_units=3):
        self.institute = InstituteFactory()
        self.call = CallFactory()
        self.panel = Panel.objects.create(call=self.call, institute=self.institute, reviews_per_proposal=2)
        self.units = [UnitFactory(main_institute=self.institute) for _ in range(n_units)]
        self.officer = UserFactory(full_name="Olga Officer")
        self.panel.officers.add(self.officer)

    def proposal(self, unit, *, state="eligible", **kwargs) -> Proposal:
        proposal = ProposalFactory(call=self.call, complete=True, unit=unit, **kwargs)
        Proposal.objects.filter(pk=proposal.pk).update(state=state)
        proposal.refresh_from_db()
        return proposal

    def reviewer(self, name, *, unit=None, keywords="", institute=None, active=True, user=None) -> Reviewer:
        user = user or UserFactory(email=f"{name.lower()}@lab.example.org", full_name=f"{name} Reviewer")
        return Reviewer.objects.create(user=user, institute=institute or self.institute, unit=unit,
                                       keywords=keywords, active=active)

    def start(self, user=None, now=NOW) -> AssignmentJob:
        return assignment_job_start(panel_id=self.panel.pk, user=user or self.officer, now=now)

    def run(self, user=None) -> AssignmentJob:
        """Start a job and run it as a worker would; the job as it ends."""
        job = self.start(user)
        assert assignment_job_run(job_id=job.pk, clock=at(1)) is not None
        job.refresh_from_db()
        return job


def assigned(proposal) -> set[str]:
    return {a.reviewer.user.full_name.split()[0] for a in proposal.assignments.filter(state="invited")}


def uncovered(job) -> list[tuple[int, str]]:
    return [(item["proposal_id"], shortfall_of(item).reason) for item in job.result["uncovered"]]


# --- What it assigns ----------------------------------------------------------------------------------------


def test_every_proposal_is_covered_never_by_a_conflicted_reviewer(django_capture_on_commit_callbacks, mailoutbox):
    setting = Setting()
    unit_a, unit_b, unit_c = setting.units
    proposals = [setting.proposal(unit_a), setting.proposal(unit_b), setting.proposal(unit_c)]
    colleague = setting.reviewer("Anna", unit=unit_a)  # in the PI's unit of the first proposal
    for name in ("Boris", "Chen", "Dara"):
        setting.reviewer(name)

    with django_capture_on_commit_callbacks(execute=True):  # queued at commit: the task runs (eagerly)
        job = setting.start()
    job.refresh_from_db()

    assert (job.state, job.phase, job.progress, job.error, job.attempts) == ("done", "done", 100, "", 1)
    created = list(Assignment.objects.filter(automatic=True))
    assert (job.result["created"], job.result["uncovered"], job.result["conflicts_recorded"]) == (6, [], 1)
    assert list(Conflict.objects.values_list("proposal", "reviewer", "cause", "source")) == [
        (proposals[0].pk, colleague.pk, "same_unit_as_pi", "detected")]
    assert "Anna" not in assigned(proposals[0])
    assert [len(assigned(p)) for p in proposals] == [2, 2, 2]
    assert Counter(a.reviewer_id for a in created).most_common(1)[0][1] <= 2  # 6 reviews over 4: ≤ ceil(1.5)
    assert (job.result["target_load"], job.result["max_load"], job.result["highest_load"]) == (2, 3, 2)
    assert all(a.state == AssignmentState.INVITED and a.created_by == setting.officer for a in created)
    assert set(Proposal.objects.values_list("state", flat=True)) == {"in_review"}
    assert sorted(m.to[0] for m in mailoutbox) == sorted(a.reviewer.user.email for a in created)
    assert Counter(AuditEntry.objects.values_list("action", flat=True)) == {
        "panel.auto_assign_start": 1, "review.conflict": 1, "proposal.review_start": 3, "review.assign": 6,
        "panel.auto_assign": 1, "panel.affinity_compute": 1}  # never computed: computed first
    entry = AuditEntry.objects.get(action="panel.auto_assign")
    assert (entry.object_id, entry.actor, entry.data) == (str(setting.panel.pk), setting.officer, {
        "proposals": 3, "reviewers": 4, "created": 6, "uncovered": 0, "missing": 0, "conflicts_recorded": 1,
        "max_load": 3,
    })
    assert set(job.result["seconds"]) == {"read", "conflicts", "network", "solve", "write"}

    with django_capture_on_commit_callbacks(execute=True):
        again = setting.start()
    again.refresh_from_db()
    assert (again.state, again.result["created"], again.result["uncovered"]) == ("done", 0, [])
    assert (Assignment.objects.count(), Conflict.objects.count(), len(mailoutbox)) == (6, 1, 6)


def test_it_says_which_proposals_it_cannot_cover_and_why():
    setting = Setting()
    unit_a, unit_b, _ = setting.units
    short = setting.proposal(unit_a)
    covered = setting.proposal(unit_b)
    setting.reviewer("Anna", unit=unit_a)
    setting.reviewer("Boris")
    setting.reviewer("Chen", unit=unit_a)  # the first proposal has only Boris

    job = setting.run()

    assert uncovered(job) == [(short.pk, "only 1 reviewer of the pool is free of conflicts with it (needs 2)")]
    assert job.result["uncovered"][0]["reference"] == short.reference
    assert (assigned(short), len(assigned(covered))) == ({"Boris"}, 2)
    assert job.result["conflicts_recorded"] == 2
    assert AuditEntry.objects.get(action="panel.auto_assign").data["missing"] == 1


def test_it_respects_answers_loads_expertise_and_the_pool():
    setting = Setting()
    unit_a, unit_b, unit_c = setting.units
    glaciers = setting.proposal(unit_a, keywords="glaciers, ice", title="Melting ice sheets")
    coasts = setting.proposal(unit_b)  # "erosion, coasts, storms"
    submitted = setting.proposal(unit_c, state="submitted")  # not screened eligible yet
    other_call = setting.proposal(unit_c)
    Proposal.objects.filter(pk=other_call.pk).update(call=CallFactory())
    anna = setting.reviewer("Anna", keywords="Glaciers, ice sheets")
    boris = setting.reviewer("Boris", keywords="storms, érosion")
    chen = setting.reviewer("Chen")
    dara = setting.reviewer("Dara")
    gus = setting.reviewer("Gus")
    setting.reviewer("Emil", active=False)
    setting.reviewer("Fay", institute=InstituteFactory())
    # Chen declined the glacier proposal: not asked again. Dara already reviews the coast proposal.
    for proposal, reviewer, state in [(glaciers, chen, "declined"), (coasts, dara, "accepted")]:
        Assignment.objects.create(panel=setting.panel, proposal=proposal, reviewer=reviewer, state=state,
                                  due_at=NOW, created_at=NOW)

    job = setting.run()

    # Needs 2 + 1, load 1 (Dara), 5 reviewers: L = 1. The experts get their proposal, Gus (free) the rest.
    assert job.result["uncovered"] == []
    assert (assigned(glaciers), assigned(coasts)) == ({"Anna", "Gus"}, {"Boris"})
    assert set(Assignment.objects.filter(automatic=True).values_list("reviewer", flat=True)) == {anna.pk, boris.pk, gus.pk}
    assert (submitted.assignments.count(), other_call.assignments.count()) == (0, 0)


def test_a_reviewer_already_above_the_target_load_is_spared():
    setting = Setting()
    unit_a, _, unit_c = setting.units
    busy = setting.reviewer("Anna", keywords="erosion, coasts, storms")
    for _ in range(3):  # three reviews done in this panel on proposals already ranked
        done = setting.proposal(unit_c, state="ranked")
        Assignment.objects.create(panel=setting.panel, proposal=done, reviewer=busy, state="accepted",
                                  due_at=NOW, created_at=NOW)
    fresh = setting.proposal(unit_a)
    setting.reviewer("Boris")
    setting.reviewer("Chen")

    job = setting.run()

    # Loads 3 + needs 2 over 3 reviewers: L = 2. Anna (3) gets nothing, although her keywords all match.
    assert not Assignment.objects.filter(automatic=True, reviewer=busy).exists()
    assert (assigned(fresh), job.result["uncovered"], job.result["highest_load"]) == ({"Boris", "Chen"}, [], 3)


def test_what_counts_towards_the_reviews_a_proposal_needs():
    """Open or done assignments count, except an unanswered one held by a reviewer who left the pool."""
    setting = Setting()
    unit_a, unit_b, _ = setting.units
    reviewed = setting.proposal(unit_a)
    stalled = setting.proposal(unit_b)
    gone = setting.reviewer("Gone", active=False)
    left = setting.reviewer("Left", active=False)
    done = Assignment.objects.create(panel=setting.panel, proposal=reviewed, reviewer=gone, state="accepted",
                                     due_at=NOW, created_at=NOW)
    Review.objects.create(assignment=done, proposal=reviewed, reviewer=gone, state=ReviewState.SUBMITTED,
                          created_at=NOW, updated_at=NOW, submitted_at=NOW)
    Assignment.objects.create(panel=setting.panel, proposal=stalled, reviewer=left, state="invited",
                              due_at=NOW, created_at=NOW)
    for name in ("Anna", "Boris", "Chen"):
        setting.reviewer(name)

    job = setting.run()

    assert job.result["uncovered"] == []
    assert (len(assigned(reviewed)), len(assigned(stalled) - {"Left"})) == (1, 2)
    assert job.result["created"] == 3


def test_an_officer_in_conflict_with_a_proposal_does_not_choose_its_reviewers():
    """The job covers the proposals its starter may see; another reader is not shown those they may not."""
    setting = Setting()
    unit_a, unit_b, _ = setting.units
    theirs = setting.proposal(unit_a)
    other = setting.proposal(unit_b)
    me = setting.reviewer("Olga", user=setting.officer, institute=InstituteFactory())  # reviews for another institute
    Conflict.objects.create(proposal=theirs, reviewer=me, source="declared", cause="declared", created_at=NOW)
    setting.reviewer("Boris")  # alone: each proposal stays one reviewer short

    job = setting.run()

    assert (theirs.assignments.count(), assigned(other)) == (0, {"Boris"})
    assert job.result["proposals"] == 1
    staff_job = setting.run(user=UserFactory(is_staff=True, is_superuser=True))
    assert [item["proposal_id"] for item in staff_job.result["uncovered"]] == [theirs.pk, other.pk]
    shown = assignment_job_view(panel=setting.panel, user=setting.officer, now=NOW)
    assert [proposal_id for proposal_id, _, _ in shown.uncovered] == [other.pk]


def test_the_run_costs_no_query_per_proposal_or_reviewer(queries):
    setting = Setting()
    names = (f"Reviewer {n}" for n in range(100))

    def conflicted(n):
        for _ in range(n):
            setting.proposal(setting.units[0])
            setting.reviewer(next(names), unit=setting.units[0])  # in conflict with every proposal

    # 38 before #20; +2 for co-authors (calls, publications); +4 per read of the panel state (plan and record):
    # caps, absences, bids, the panel; +2 the check of the panel's stored affinities first.
    assert queries.at_sizes(conflicted, setting.run, sizes=(2, 4)) == (50, 50)
    job = setting.run()
    assert (job.result["created"], len(job.result["uncovered"])) == (0, 4)


# --- How it runs ----------------------------------------------------------------------------------------------


def test_each_phase_is_written_as_it_starts(monkeypatch):
    setting = Setting()
    setting.proposal(setting.units[0])
    setting.reviewer("Anna")
    seen = []
    real_report = job_module._report

    def spy(job_id, claim, clock, phase):
        real_report(job_id, claim, clock, phase)
        seen.append(AssignmentJob.objects.values_list("state", "phase", "progress").get(pk=job_id))

    monkeypatch.setattr(job_module, "_report", spy)
    job = setting.run()

    assert seen == [("running", "reading", 5), ("running", "conflicts", 20), ("running", "solving", 40),
                    ("running", "recording", 80)]
    assert (job.state, job.phase, job.progress, job.started_at, job.finished_at) == ("done", "done", 100, at(1)(), at(1)())


def test_a_task_delivered_twice_records_the_assignments_once(mailoutbox, django_capture_on_commit_callbacks):
    setting = Setting()
    setting.proposal(setting.units[0])
    for name in ("Anna", "Boris"):
        setting.reviewer(name)
    job = setting.start()

    with django_capture_on_commit_callbacks(execute=True):
        first, second = run_assignment_job(job.pk), run_assignment_job(job.pk)

    assert (first, second) == ("done", "nothing to do")
    assert (Assignment.objects.count(), len(mailoutbox), AuditEntry.objects.filter(action="panel.auto_assign").count()) == (2, 2, 1)
    job.refresh_from_db()
    assert (job.state, job.attempts) == ("done", 1)


def test_a_running_job_is_left_alone_but_a_stalled_one_is_taken_over_and_its_first_run_records_nothing():
    setting = Setting()
    setting.proposal(setting.units[0])
    for name in ("Anna", "Boris"):
        setting.reviewer(name)
    job = setting.start()
    first_claim = job_module._claim(job.pk, NOW)  # a worker took it…

    assert assignment_job_run(job_id=job.pk, clock=at(60)) is None  # …so a second delivery a minute later waits
    later = NOW + JOB_STALLED_AFTER + dt.timedelta(seconds=1)
    taken_over = assignment_job_run(job_id=job.pk, clock=lambda: later)  # the first worker went silent
    assert (taken_over.state, taken_over.attempts, taken_over.result["created"]) == ("done", 2, 2)

    # The first run wakes up: it cannot record, nor even report.
    with pytest.raises(job_module.JobLost):
        job_module._report(job.pk, first_claim, at(2), "solving")
    with pytest.raises(job_module.JobLost):
        job_module._locked(job.pk, first_claim)
    assert Assignment.objects.count() == 2


def test_when_the_panel_changes_during_the_run_it_plans_again(monkeypatch):
    """An officer assigns a reviewer by hand while the job chooses: the choice it made is not recorded; it
    chooses again, around the new assignment."""
    setting = Setting()
    proposal = setting.proposal(setting.units[0])
    anna, boris, chen = (setting.reviewer(name) for name in ("Anna", "Boris", "Chen"))
    real_plan = auto_assign_module.auto_assign_plan
    plans = []

    def plan_then_someone_assigns(**kwargs):
        plan = real_plan(**kwargs)
        plans.append(plan)
        if len(plans) == 1:  # Chen assigned by hand to the one proposal, after the first plan was made
            assignment_create(panel=setting.panel, proposal=proposal, reviewer=chen, user=setting.officer, now=NOW)
        return plan

    monkeypatch.setattr(job_module, "auto_assign_plan", plan_then_someone_assigns)
    job = setting.run()

    assert (job.state, len(plans), job.result["created"]) == ("done", 2, 1)
    assert (len(plans[0].solution.pairs), len(plans[1].solution.pairs)) == (2, 1)
    assert set(proposal.assignments.values_list("reviewer", flat=True)) in ({anna.pk, chen.pk}, {boris.pk, chen.pk})


def test_a_panel_that_keeps_changing_fails_the_job_and_assigns_nothing(monkeypatch):
    setting = Setting()
    unit = setting.units[0]
    setting.proposal(unit)
    setting.reviewer("Anna")
    real_plan = auto_assign_module.auto_assign_plan
    names = iter(range(10))

    def plan_then_a_reviewer_joins(**kwargs):
        plan = real_plan(**kwargs)
        setting.reviewer(f"Newcomer{next(names)}")
        return plan

    monkeypatch.setattr(job_module, "auto_assign_plan", plan_then_a_reviewer_joins)
    job = setting.run()

    assert (job.state, job.error, job.result) == ("failed", "changing", {})
    assert Assignment.objects.count() == 0
    assert AuditEntry.objects.get(action="panel.auto_assign_fail").data == {"job": job.pk, "error": "changing"}
    assert "kept changing" in assignment_job_view(panel=setting.panel, user=setting.officer, now=NOW).error


def test_an_unexpected_error_fails_the_job_with_nothing_half_done(monkeypatch):
    setting = Setting()
    setting.proposal(setting.units[0])
    setting.reviewer("Anna")

    def broken(plan, *, now):
        raise RuntimeError("a bug")

    monkeypatch.setattr(job_module, "auto_assign_record", broken)
    job = setting.run()

    assert (job.state, job.error, Assignment.objects.count()) == ("failed", "internal", 0)
    assert Proposal.objects.get().state == "eligible"
    view = assignment_job_view(panel=setting.panel, user=setting.officer, now=NOW)
    assert (view.active, view.error) == (False, str(job_module.ERRORS["internal"]))


def test_one_job_at_a_time_per_panel():
    setting = Setting()
    running = setting.start()
    with pytest.raises(ValidationError) as refused:
        setting.start(user=UserFactory(full_name="Otto Other"))
    assert refused.value.code == "running"
    assert "already under way (started by Olga Officer at " in refused.value.messages[0]
    # The database says so too, whatever the code above checks.
    with pytest.raises(IntegrityError), transaction.atomic():
        AssignmentJob.objects.create(panel=setting.panel, created_at=NOW)
    # Another panel is not held up.
    Setting().start()
    assert AssignmentJob.objects.filter(panel=setting.panel).get() == running


def test_a_stalled_job_no_longer_blocks_the_panel():
    setting = Setting()
    stalled = setting.start()
    later = NOW + JOB_STALLED_AFTER + dt.timedelta(seconds=1)
    assert assignment_job_view(panel=setting.panel, user=setting.officer, now=later).error.startswith("It stopped")

    fresh = setting.start(now=later)

    stalled.refresh_from_db()
    assert (stalled.state, stalled.error, fresh.state) == ("failed", "stalled", "queued")
    assert assignment_job_run(job_id=stalled.pk, clock=lambda: later) is None  # its worker can do nothing now


def test_a_broker_that_cannot_be_reached_fails_the_job_at_once(monkeypatch, django_capture_on_commit_callbacks):
    from celery import current_app

    def unreachable(*args, **kwargs):
        raise OSError("Connection refused")

    monkeypatch.setattr(current_app.tasks[RUN_TASK], "apply_async", unreachable)
    setting = Setting()
    with django_capture_on_commit_callbacks(execute=True):
        job = setting.start()
    job.refresh_from_db()
    assert (job.state, job.error) == ("failed", "queue")
    with translation.override("fr"):
        assert assignment_job_view(panel=setting.panel, user=setting.officer, now=NOW).error.startswith(
            "Elle n'a pas pu être confiée")


def test_the_view_of_a_running_job():
    setting = Setting()
    job = setting.start()
    AssignmentJob.objects.filter(pk=job.pk).update(state=AssignmentJobState.RUNNING, phase="solving", progress=40,
                                                   heartbeat_at=NOW)
    view = assignment_job_view(panel=setting.panel, user=setting.officer, now=NOW)
    assert (view.active, view.percent, view.phase, view.error) == (True, 40, "Choosing the reviewers", "")
    with translation.override("fr"):
        assert assignment_job_view(panel=setting.panel, user=setting.officer, now=NOW).phase == "Choix des expert·es"


# --- Races, on PostgreSQL (row locks) -------------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_ten_officers_starting_at_once_start_one_job(require_postgres, monkeypatch):
    monkeypatch.setattr(job_module, "_queue", lambda job_id, task_id: None)  # no worker here: only the starts race
    setting = Setting()
    officers = [UserFactory() for _ in range(10)]
    for officer in officers:
        setting.panel.officers.add(officer)
    who = iter(officers)

    def start():
        try:
            return assignment_job_start(panel_id=setting.panel.pk, user=next(who), now=NOW).pk
        except ValidationError as error:
            return error.code

    results, errors = run_together(10, start)

    assert errors == []
    [job] = AssignmentJob.objects.all()
    assert sorted(results, key=str) == sorted([job.pk] + ["running"] * 9, key=str)
    assert AuditEntry.objects.filter(action="panel.auto_assign_start").count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_task_delivered_twice_at_once_records_the_assignments_once(require_postgres, monkeypatch):
    monkeypatch.setattr(job_module, "_queue", lambda job_id, task_id: None)
    monkeypatch.setattr("iea.notifications.domain.enqueue", lambda ids, **kwargs: None)
    setting = Setting()
    for unit in setting.units:
        setting.proposal(unit)
    for name in ("Anna", "Boris", "Chen"):
        setting.reviewer(name)
    job = setting.start()

    results, errors = run_together(2, lambda: run_assignment_job(job.pk))

    assert errors == []
    assert sorted(results) == ["done", "nothing to do"]
    assert (Assignment.objects.count(), AssignmentJob.objects.get().attempts) == (6, 1)
    assert AuditEntry.objects.filter(action="review.assign").count() == 6
