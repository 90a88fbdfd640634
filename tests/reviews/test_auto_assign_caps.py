"""Automatic assignment with #20's inputs, on a real panel: each reviewer's maximum, their absences, their bids and
the stored affinities; why each assignment was made; why a proposal stays short; and a change to any of them
between the plan and its recording makes the job plan again."""

import datetime as dt

import pytest
from django.utils import timezone, translation

import reviews.domain.assignment_job as job_module
import reviews.domain.auto_assign as auto_assign_module
from reviews.domain.assignment_job import assignment_job_run, assignment_job_view
from reviews.domain.auto_assign import shortfall_of
from reviews.domain.caps import reviewer_cap_set
from reviews.domain.matching import assignment_why
from reviews.models import Affinity, Assignment, Bid, ReviewerCap, Unavailability
from reviews.selectors import panel_affinities
from tests.reviews.test_assignment_job import NOW, Setting, at

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate(NOW)


def run(setting, stored=panel_affinities):
    job = setting.start()
    assert assignment_job_run(job_id=job.pk, clock=at(1), stored_affinities=stored) is not None
    job.refresh_from_db()
    return job


def given(setting) -> dict[str, int]:
    counts = {}
    for assignment in Assignment.objects.filter(panel=setting.panel).select_related("reviewer__user"):
        name = assignment.reviewer.user.full_name.split()[0]
        counts[name] = counts.get(name, 0) + 1
    return counts


def test_caps_absences_and_bids_shape_the_choice_and_each_assignment_says_why():
    setting = Setting()
    unit = setting.units[0]
    first, second = setting.proposal(unit), setting.proposal(unit)
    anna, boris, chen, dora = (setting.reviewer(name) for name in ("Anna", "Boris", "Chen", "Dora"))
    setting.panel.review_due_at = NOW + dt.timedelta(days=20)
    setting.panel.save()
    ReviewerCap.objects.create(panel=setting.panel, reviewer=anna, max_reviews=1)
    Unavailability.objects.create(user=dora.user, starts_on=TODAY, ends_on=TODAY + dt.timedelta(days=15))
    Bid.objects.create(panel=setting.panel, reviewer=boris, proposal=first, value="eager", updated_at=NOW)
    Bid.objects.create(panel=setting.panel, reviewer=chen, proposal=first, value="rather_not", updated_at=NOW)
    Affinity.objects.create(panel=setting.panel, proposal=first, reviewer=anna, score=900, terms=["ocean", "coral"])
    # Computed and up to date: the run reads them as they are (a stale panel would be computed again first).
    setting.panel.affinity_computed_at, setting.panel.affinity_stale = NOW, False
    setting.panel.save()

    job = run(setting)

    assert (job.state, job.result["created"], job.result["away"], job.result["capped"]) == ("done", 4, 1, 1)
    assert given(setting) == {"Anna": 1, "Boris": 2, "Chen": 1}  # Dora away, Anna at her maximum of 1
    pairs = {(a.proposal_id, a.reviewer.user.full_name.split()[0]): a
             for a in Assignment.objects.filter(panel=setting.panel).select_related("reviewer__user")}
    assert set(pairs) == {(first.pk, "Anna"), (first.pk, "Boris"), (second.pk, "Boris"), (second.pk, "Chen")}
    assert pairs[(first.pk, "Anna")].reasons == {"affinity": 900, "terms": ["ocean", "coral"], "bid": "", "load": 0,
                                                 "after": 1, "max": 1}
    assert assignment_why(pairs[(first.pk, "Boris")].reasons) == "no particular affinity · bid: eager · load 2/3"
    with translation.override("fr"):
        assert assignment_why(pairs[(first.pk, "Anna")].reasons) == "affinité 90\u00a0% (ocean, coral) · charge 1/1"


def _coral_panel():
    setting = Setting()
    proposal = setting.proposal(setting.units[0], keywords="ocean, coral")
    setting.reviewer("Anna", keywords="desert")
    setting.reviewer("Boris", keywords="coral")
    setting.panel.reviews_per_proposal = 1
    setting.panel.save()
    return setting, proposal


def test_without_stored_affinities_the_keywords_decide_as_before():
    """A run given no stored affinities (no selector: ``assignment_job_run`` called directly) matches keywords."""
    setting, proposal = _coral_panel()
    run(setting, stored=None)
    [assignment] = Assignment.objects.filter(proposal=proposal)
    assert (assignment.reviewer.user.full_name, assignment.reasons["keywords"]) == ("Boris Reviewer", 1)


def test_a_panel_never_computed_gets_its_affinities_before_the_choice():
    setting, proposal = _coral_panel()
    run(setting)
    [assignment] = Assignment.objects.filter(proposal=proposal)
    setting.panel.refresh_from_db()
    assert setting.panel.affinity_computed_at is not None and not setting.panel.affinity_stale
    assert assignment.reviewer.user.full_name == "Boris Reviewer"
    assert assignment.reasons["affinity"] > 0 and "coral" in assignment.reasons["terms"]
    assert "keywords" not in assignment.reasons


def test_a_proposal_left_short_says_who_is_away_and_who_is_full_in_the_readers_language():
    setting = Setting()
    unit = setting.units[0]
    first, second = setting.proposal(unit), setting.proposal(unit)
    anna, boris, chen = (setting.reviewer(name) for name in ("Anna", "Boris", "Chen"))
    Unavailability.objects.create(user=chen.user, starts_on=TODAY - dt.timedelta(days=3), ends_on=TODAY + dt.timedelta(days=40))
    for reviewer in (anna, boris):
        ReviewerCap.objects.create(panel=setting.panel, reviewer=reviewer, max_reviews=1)

    job = run(setting)

    assert job.result["created"] == 2
    view = assignment_job_view(panel=setting.panel, user=setting.officer, now=NOW)
    reasons = sorted(short.reason for _, _, short in view.uncovered)
    # Each got Anna or Boris (their maximum is 1), Chen is away: the other one is at the maximum set for them.
    assert reasons == ["the 1 other eligible reviewer is at the maximum of reviews set for them; 1 other reviewer "
                       "is away during the review period"] * 2
    with translation.override("fr"):
        assert {short.reason for _, _, short in view.uncovered} == {
            "1 autre expert·e pouvant l'évaluer a atteint le maximum d'évaluations fixé pour lui ou elle\u00a0; 1 autre "
            "expert·e est absent·e pendant la période d'évaluation"}
    assert {item["cause"] for item in job.result["uncovered"]} == {"capacity"}
    assert (first.pk in {i["proposal_id"] for i in job.result["uncovered"]}, second.pk in
            {i["proposal_id"] for i in job.result["uncovered"]}) == (True, True)


@pytest.mark.parametrize("change", ["cap", "default", "away", "bid", "affinity"])
def test_a_change_of_cap_absence_bid_or_affinity_between_plan_and_record_plans_again(monkeypatch, change):
    setting = Setting()
    proposal = setting.proposal(setting.units[0])
    anna, _boris, _chen = (setting.reviewer(name) for name in ("Anna", "Boris", "Chen"))
    real_plan = auto_assign_module.auto_assign_plan
    plans = []

    def plan_then_change(**kwargs):
        plan = real_plan(**kwargs)
        plans.append(plan)
        if len(plans) == 1:
            if change == "cap":
                reviewer_cap_set(panel_id=setting.panel.pk, reviewer_id=anna.pk, user=setting.officer,
                                 max_reviews=1, now=NOW)
            elif change == "default":
                type(setting.panel).objects.filter(pk=setting.panel.pk).update(default_max_reviews=3)
            elif change == "away":
                Unavailability.objects.create(user=anna.user, starts_on=TODAY, ends_on=TODAY + dt.timedelta(days=60))
            elif change == "bid":
                Bid.objects.create(panel=setting.panel, reviewer=anna, proposal=proposal, value="eager", updated_at=NOW)
            else:
                type(setting.panel).objects.filter(pk=setting.panel.pk).update(affinity_computed_at=NOW)
        return plan

    monkeypatch.setattr(job_module, "auto_assign_plan", plan_then_change)
    job = run(setting)
    assert (job.state, len(plans)) == ("done", 2)


def test_a_summary_stored_before_20_still_reads():
    """A job's summary stored before the causes were counted (no away/others/at_cap): its reasons read as then."""
    old = {"proposal_id": 1, "reference": "IEA27-000001", "need": 2, "missing": 1, "cause": "capacity", "allowed": 4,
           "asked_before": 0, "max_load": 3}
    assert shortfall_of(old).reason == "the other eligible reviewers are at their maximum load of 3"
