"""The reviewer's evaluation rules: opening, scores in range and in half points, the two-tab conflict,
what submission needs, the lock, and reopening by an officer of the panel with a reason."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from iea.audit.models import AuditEntry
from reviews.domain.conflicts import conflict_declare
from reviews.domain.scoring import (
    review_missing,
    review_open,
    review_reopen,
    review_save_draft,
    review_submit,
    score_choices,
)
from reviews.models import AssignmentState, Conflict, Panel, Review, ReviewState, Score
from tests.factories import CallFactory, UserFactory

from .factories import AssignmentFactory, ReviewerFactory

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2031, 3, 1, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def assignment():
    return AssignmentFactory()


@pytest.fixture
def reviewer_user(assignment):
    return assignment.reviewer.user


@pytest.fixture
def review(assignment, reviewer_user):
    return review_open(assignment_id=assignment.pk, user=reviewer_user, now=NOW)


@pytest.fixture
def criteria(review):
    return [score.criterion for score in review.scores.select_related("criterion").order_by("criterion__position")]


@pytest.fixture
def officer(assignment):
    user = UserFactory(email="officer@cnrs.example.fr")
    assignment.panel.officers.add(user)
    return user


def save(review, user, *, scores=None, lock_version=None, now=NOW, **data):
    return review_save_draft(
        review_id=review.pk, user=user, data=data, scores=scores or {},
        lock_version=review.lock_version if lock_version is None else lock_version, now=now,
    )


def complete(review, user, criteria):
    return save(review, user, scores={c.pk: (Decimal("3.5"), "Fine.") for c in criteria},
                comment_for_pi="A promising collaboration.", confidential_comment="Strong team.",
                recommendation="fund")


# --- Opening ------------------------------------------------------------------------------------------------


def test_opening_creates_one_empty_score_per_criterion_of_the_call_in_order(review, assignment):
    rows = list(review.scores.order_by("criterion__position").values_list("criterion__position", "score", "max_score"))
    assert rows == [(position, None, Decimal("5.0")) for position in range(1, 7)]
    assert (review.state, review.lock_version, review.created_at) == (ReviewState.DRAFT, 1, NOW)
    assert (review.proposal_id, review.reviewer_id, review.assignment_id) == (
        assignment.proposal_id, assignment.reviewer_id, assignment.pk)


def test_opening_twice_gives_the_same_review_and_one_audit_entry(review, assignment, reviewer_user):
    again = review_open(assignment_id=assignment.pk, user=reviewer_user, now=NOW + dt.timedelta(hours=1))
    assert again.pk == review.pk
    assert Review.objects.count() == 1
    assert Score.objects.filter(review=review).count() == 6
    assert list(AuditEntry.objects.filter(action="review.open").values_list("object_id", flat=True)) == [str(review.pk)]


def test_max_score_is_copied_from_each_criterion(assignment, reviewer_user):
    criterion = assignment.proposal.call.criteria.get(position=6)
    criterion.scale_max = Decimal(10)
    criterion.save()
    review = review_open(assignment_id=assignment.pk, user=reviewer_user, now=NOW)
    assert review.scores.get(criterion=criterion).max_score == Decimal(10)


def test_only_the_assigned_reviewer_may_open(assignment):
    stranger = ReviewerFactory(institute=assignment.reviewer.institute).user
    with pytest.raises(ValidationError) as refused:
        review_open(assignment_id=assignment.pk, user=stranger, now=NOW)
    assert refused.value.code == "forbidden"
    assert Review.objects.count() == 0


def test_an_invitation_not_yet_accepted_cannot_be_reviewed(reviewer_user, assignment):
    type(assignment).objects.filter(pk=assignment.pk).update(state=AssignmentState.INVITED)
    with pytest.raises(ValidationError) as refused:
        review_open(assignment_id=assignment.pk, user=reviewer_user, now=NOW)
    assert refused.value.code == "not_accepted"


def test_a_conflicted_reviewer_cannot_open(assignment, reviewer_user):
    # A conflict recorded without withdrawing the assignment still closes access: the rules ask for conflicts.
    Conflict.objects.create(proposal=assignment.proposal, reviewer=assignment.reviewer, source="officer",
                            cause="officer", created_at=NOW)
    with pytest.raises(ValidationError) as refused:
        review_open(assignment_id=assignment.pk, user=reviewer_user, now=NOW)
    assert refused.value.code == "not_reviewing"


# --- Saving the draft ---------------------------------------------------------------------------------------


def test_a_draft_saves_scores_comments_and_bumps_the_lock_version(review, reviewer_user, criteria):
    later = NOW + dt.timedelta(minutes=5)
    result = save(review, reviewer_user, now=later, scores={criteria[0].pk: (Decimal("4.5"), " Solid. "),
                                                          criteria[1].pk: (Decimal(0), "")},
                  comment_for_pi="Good ", recommendation="reserve")
    assert result.saved is True
    review.refresh_from_db()
    assert (review.lock_version, review.updated_at, review.comment_for_pi, review.recommendation) == (
        2, later, "Good", "reserve")
    assert list(review.scores.order_by("criterion__position").values_list("score", "comment")[:3]) == [
        (Decimal("4.5"), "Solid."), (Decimal("0.0"), ""), (None, "")]


def test_an_unchanged_save_writes_nothing(review, reviewer_user):
    result = save(review, reviewer_user, comment_for_pi="")
    review.refresh_from_db()
    assert (result.saved, review.lock_version, review.updated_at) == (True, 1, NOW)


def test_a_score_can_be_cleared(review, reviewer_user, criteria):
    save(review, reviewer_user, scores={criteria[0].pk: (Decimal(3), "")})
    review.refresh_from_db()
    save(review, reviewer_user, scores={criteria[0].pk: (None, "")})
    assert review.scores.get(criterion=criteria[0]).score is None


@pytest.mark.parametrize("value", [Decimal("5.5"), Decimal("-0.5"), Decimal(6)])
def test_a_score_out_of_range_is_refused_naming_the_criterion(review, reviewer_user, criteria, value):
    with pytest.raises(ValidationError) as refused:
        save(review, reviewer_user, scores={criteria[2].pk: (value, "")})
    assert refused.value.messages == [
        "“Scientific quality and complementarity of the teams”: the score must be between 0 and 5."]
    assert review.scores.get(criterion=criteria[2]).score is None


def test_a_score_must_be_in_half_points(review, reviewer_user, criteria):
    with pytest.raises(ValidationError) as refused:
        save(review, reviewer_user, scores={criteria[0].pk: (Decimal("2.25"), ""), criteria[1].pk: (Decimal("2.5"), "")})
    assert refused.value.messages == ["“Scientific quality of the project”: the score must be a multiple of 0.5."]
    assert list(review.scores.values_list("score", flat=True)) == [None] * 6  # nothing was written


def test_the_step_is_the_criterions(assignment, reviewer_user):
    criterion = assignment.proposal.call.criteria.get(position=1)
    criterion.step = Decimal(1)
    criterion.save()
    review = review_open(assignment_id=assignment.pk, user=reviewer_user, now=NOW)
    assert score_choices(criterion) == [Decimal(n) for n in range(6)]
    with pytest.raises(ValidationError) as refused:
        save(review, reviewer_user, scores={criterion.pk: (Decimal("2.5"), "")})
    assert refused.value.messages == ["“Scientific quality of the project”: the score must be a multiple of 1."]


def test_scores_are_offered_in_half_points_from_0_to_the_maximum(criteria):
    assert score_choices(criteria[0]) == [Decimal(n) / 2 for n in range(11)]


def test_an_unknown_recommendation_is_refused(review, reviewer_user):
    with pytest.raises(ValidationError) as refused:
        save(review, reviewer_user, recommendation="maybe")
    assert refused.value.messages == ["Choose a recommendation from the list."]


def test_two_tabs_never_overwrite_each_other_silently(review, reviewer_user, criteria):
    loaded = review.lock_version
    first = save(review, reviewer_user, lock_version=loaded, scores={criteria[0].pk: (Decimal(4), "From tab A")},
                 comment_for_pi="Tab A")
    second = save(review, reviewer_user, lock_version=loaded, now=NOW + dt.timedelta(minutes=1),
                  scores={criteria[0].pk: (Decimal(2), "From tab B")}, comment_for_pi="Tab B")

    assert (first.saved, second.saved) == (True, False)
    assert (second.conflict_at, second.conflicting_fields, second.conflicting_criteria) == (
        NOW, ["comment_for_pi"], [criteria[0].pk])
    review.refresh_from_db()
    assert (review.comment_for_pi, review.lock_version) == ("Tab A", 2)
    assert (review.scores.get(criterion=criteria[0]).score, review.scores.get(criterion=criteria[0]).comment) == (
        Decimal(4), "From tab A")
    # Tab B chose to keep its version: it saves against the current lock version.
    third = save(review, reviewer_user, lock_version=2, comment_for_pi="Tab B")
    review.refresh_from_db()
    assert (third.saved, review.comment_for_pi, review.lock_version) == (True, "Tab B", 3)


def test_another_user_cannot_save(review):
    with pytest.raises(ValidationError) as refused:
        save(review, UserFactory(), comment_for_pi="Hijack")
    assert refused.value.code == "forbidden"


def test_a_conflict_declared_meanwhile_stops_the_next_save(review, reviewer_user, assignment):
    conflict_declare(proposal_id=assignment.proposal_id, reviewer=assignment.reviewer, user=reviewer_user,
                     reason="My former student", now=NOW)
    with pytest.raises(ValidationError) as refused:
        save(review, reviewer_user, comment_for_pi="Still typing")
    assert refused.value.code == "not_reviewing"
    review.refresh_from_db()
    assert review.comment_for_pi == ""


# --- Submitting ---------------------------------------------------------------------------------------------


def test_submit_lists_exactly_what_is_missing(review, reviewer_user, criteria):
    save(review, reviewer_user, scores={c.pk: (Decimal(3), "") for c in criteria[:4]})
    with pytest.raises(ValidationError) as refused:
        review_submit(review_id=review.pk, user=reviewer_user, now=NOW)
    assert refused.value.messages == [
        "Score “Ethics”.",
        "Score “Financial justification”.",
        "Write the comment for the PI.",
        "Choose a recommendation.",
    ]
    review.refresh_from_db()
    assert review.state == ReviewState.DRAFT
    assert review_missing(review) == refused.value.messages


def test_a_blank_comment_for_the_pi_does_not_count(review, reviewer_user, criteria):
    complete(review, reviewer_user, criteria)
    review.refresh_from_db()
    save(review, reviewer_user, comment_for_pi="   ")
    with pytest.raises(ValidationError) as refused:
        review_submit(review_id=review.pk, user=reviewer_user, now=NOW)
    assert refused.value.messages == ["Write the comment for the PI."]


def test_submit_locks_the_review_and_is_recorded(review, reviewer_user, criteria):
    complete(review, reviewer_user, criteria)
    submitted_at = NOW + dt.timedelta(hours=2)
    submitted = review_submit(review_id=review.pk, user=reviewer_user, now=submitted_at)

    assert (submitted.state, submitted.submitted_at) == (ReviewState.SUBMITTED, submitted_at)
    entry = AuditEntry.objects.get(action="review.submit")
    assert (entry.actor, entry.object_id, entry.from_state, entry.to_state) == (
        reviewer_user, str(review.pk), "draft", "submitted")
    review.refresh_from_db()
    with pytest.raises(ValidationError) as refused:
        save(review, reviewer_user, comment_for_pi="Second thoughts")
    assert refused.value.code == "submitted"
    review.refresh_from_db()
    assert review.comment_for_pi == "A promising collaboration."


def test_submitting_twice_gives_one_submission(review, reviewer_user, criteria):
    complete(review, reviewer_user, criteria)
    first = review_submit(review_id=review.pk, user=reviewer_user, now=NOW)
    second = review_submit(review_id=review.pk, user=reviewer_user, now=NOW + dt.timedelta(seconds=3))
    assert (first.submitted_at, second.submitted_at, second.lock_version) == (NOW, NOW, first.lock_version)
    assert AuditEntry.objects.filter(action="review.submit").count() == 1


def test_only_the_reviewer_submits(review, reviewer_user, criteria, officer):
    complete(review, reviewer_user, criteria)
    with pytest.raises(ValidationError) as refused:
        review_submit(review_id=review.pk, user=officer, now=NOW)
    assert refused.value.code == "forbidden"


# --- Reopening ----------------------------------------------------------------------------------------------


@pytest.fixture
def submitted(review, reviewer_user, criteria):
    complete(review, reviewer_user, criteria)
    return review_submit(review_id=review.pk, user=reviewer_user, now=NOW)


def test_the_officer_of_the_panel_reopens_with_a_reason_and_the_reviewer_is_mailed(
    submitted, officer, reviewer_user, django_capture_on_commit_callbacks, mailoutbox
):
    with django_capture_on_commit_callbacks(execute=True):
        reopened = review_reopen(review_id=submitted.pk, user=officer, reason="Please justify criterion 6.", now=NOW)

    assert (reopened.state, reopened.submitted_at) == (ReviewState.DRAFT, None)
    entry = AuditEntry.objects.get(action="review.reopen")
    assert (entry.actor, entry.reason, entry.from_state, entry.to_state) == (
        officer, "Please justify criterion 6.", "submitted", "draft")
    assert [message.to for message in mailoutbox] == [[reviewer_user.email]]
    assert mailoutbox[0].subject == f"Your review of {submitted.proposal.reference} was reopened"
    assert "Please justify criterion 6." in mailoutbox[0].body
    assert f"/review/{submitted.assignment_id}/review/" in mailoutbox[0].body
    # The reviewer can change it again.
    reopened.refresh_from_db()
    assert save(reopened, reviewer_user, comment_for_pi="Justified.").saved is True


def test_staff_may_reopen(submitted, staff):
    assert review_reopen(review_id=submitted.pk, user=staff, reason="Typo in the score.", now=NOW).state == "draft"


def test_reopening_needs_a_reason(submitted, officer):
    with pytest.raises(ValidationError) as refused:
        review_reopen(review_id=submitted.pk, user=officer, reason="  ", now=NOW)
    assert refused.value.code == "reason"
    submitted.refresh_from_db()
    assert submitted.state == ReviewState.SUBMITTED


@pytest.mark.parametrize("who", ["reviewer", "other_officer", "pi"])
def test_only_an_officer_of_the_panel_or_staff_reopens(submitted, reviewer_user, who, django_capture_on_commit_callbacks):
    if who == "reviewer":
        user = reviewer_user
    elif who == "other_officer":
        user = UserFactory(email="elsewhere@cnrs.example.fr")
        other_panel = Panel.objects.create(call=CallFactory(), institute=submitted.reviewer.institute)
        other_panel.officers.add(user)
    else:
        user = submitted.proposal.pi
    with django_capture_on_commit_callbacks() as callbacks, pytest.raises(ValidationError) as refused:
        review_reopen(review_id=submitted.pk, user=user, reason="Because.", now=NOW)
    assert (refused.value.code, callbacks) == ("forbidden", [])
    submitted.refresh_from_db()
    assert submitted.state == ReviewState.SUBMITTED


def test_an_officer_in_conflict_cannot_reopen(submitted, officer):
    conflicted = ReviewerFactory(user=officer, institute=submitted.reviewer.institute)
    Conflict.objects.create(proposal=submitted.proposal, reviewer=conflicted, source="declared", cause="declared",
                            created_at=NOW)
    with pytest.raises(ValidationError) as refused:
        review_reopen(review_id=submitted.pk, user=officer, reason="Because.", now=NOW)
    assert refused.value.code == "forbidden"


def test_a_draft_cannot_be_reopened(review, officer):
    with pytest.raises(ValidationError) as refused:
        review_reopen(review_id=review.pk, user=officer, reason="Because.", now=NOW)
    assert refused.value.code == "not_submitted"


# --- What the database guarantees by itself -----------------------------------------------------------------


@pytest.mark.parametrize("value", [Decimal("5.5"), Decimal("-0.5")])
def test_the_database_refuses_a_score_out_of_range(review, value):
    score = review.scores.first()
    score.score = value
    with pytest.raises(IntegrityError), transaction.atomic():
        score.save()


def test_the_database_accepts_the_bounds(review):
    score = review.scores.first()
    for value in (Decimal(0), Decimal(5)):
        score.score = value
        score.save()
    assert Score.objects.get(pk=score.pk).score == Decimal(5)


def test_the_database_keeps_one_review_per_reviewer_and_proposal(review, assignment):
    other = AssignmentFactory(proposal=assignment.proposal, panel=assignment.panel,
                              reviewer=ReviewerFactory(institute=assignment.reviewer.institute))
    with pytest.raises(IntegrityError), transaction.atomic():
        Review.objects.create(assignment=other, proposal=review.proposal, reviewer=review.reviewer,
                              created_at=timezone.now(), updated_at=timezone.now())
