"""The reviewer's evaluation: opening a review, saving the draft, submitting it, and reopening it.

domain.md, "Review": each reviewer scores the call's criteria (six, seeded in order), with a comment per
criterion; public practice scores 0–5 in half points (the scale and step are the call's, per criterion).
A reviewer sees the proposal only while assigned (accepted) and not in conflict: every function below
asks ``reviews.rules`` again, so a conflict declared mid-review stops the next save. A submitted review
is locked; only an officer of the panel or directorate staff may reopen it, with a reason.
"""

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from calls.models import Criterion
from iea import formats
from iea.audit.domain import audit_record
from iea.autosave import SaveResult, is_stale, stamp_saved
from iea.errors import DomainError
from iea.roles import is_directorate
from proposals.models import Proposal, ProposalVersion, TeamSide

from ..models import Assignment, AssignmentState, Conflict, Recommendation, Review, ReviewState, Score
from ..rules import is_panel_officer, is_reviewing
from .mail import notify_reopened
from .panel_figures import panel_figures_invalidate

# The fields of the review besides the scores, saved together under one lock version.
REVIEW_FIELDS = ["comment_for_pi", "confidential_comment", "recommendation"]


class ScoringError(DomainError):
    """A scoring rule refused the request."""


# --- What the reviewer reads -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReviewMaterial:
    """The proposal as submitted: the last version's frozen content (``proposals.domain.proposal_snapshot``),
    never the live draft, which the PI may have changed after the last submission."""

    proposal: Proposal
    version: ProposalVersion | None
    content: dict

    @property
    def cnrs_team(self) -> list[dict]:
        return [m for m in self.content.get("team", []) if m.get("side") == TeamSide.CNRS]

    @property
    def partner_team(self) -> list[dict]:
        return [m for m in self.content.get("team", []) if m.get("side") == TeamSide.PARTNER]


def review_material(proposal: Proposal) -> ReviewMaterial | None:
    """The last submitted version of a proposal, or None if it was never submitted (then nobody reviews it)."""
    version = ProposalVersion.objects.filter(proposal=proposal).select_related("letter").order_by("-number").first()
    if version is None:
        return None
    return ReviewMaterial(proposal=proposal, version=version, content=version.content)


# --- Scores ------------------------------------------------------------------------------------------------


def plain_decimal(value: Decimal) -> str:
    """``Decimal("5.0")`` → ``"5"``, ``Decimal("3.50")`` → ``"3.5"``: one spelling per value, for form choices."""
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def score_label(value: Decimal) -> str:
    """The score as the reader's language writes it (``3,5`` in French)."""
    return formats.number(value, decimals=0 if value == value.to_integral_value() else 1)


def score_choices(criterion: Criterion) -> list[Decimal]:
    """Every score the criterion allows: 0 to its maximum, by its step (half points by default)."""
    values, value = [], Decimal(0)
    while value <= criterion.scale_max:
        values.append(value)
        value += criterion.step
    return values


def score_error(criterion: Criterion, value: Decimal | None) -> str:
    """Why a score is refused for this criterion, naming it; '' if it is allowed. None means "not scored"."""
    if value is None:
        return ""
    try:
        in_range = Decimal(0) <= value <= criterion.scale_max
        on_step = in_range and value % criterion.step == 0
    except (InvalidOperation, TypeError):
        in_range = on_step = False
    if not in_range:
        return _("“%(criterion)s”: the score must be between 0 and %(max)s.") % {
            "criterion": criterion.label, "max": score_label(criterion.scale_max)}
    if not on_step:
        return _("“%(criterion)s”: the score must be a multiple of %(step)s.") % {
            "criterion": criterion.label, "step": score_label(criterion.step)}
    return ""


# --- Opening, saving, submitting, reopening ----------------------------------------------------------------


def _lock_review(review_id: int) -> Review:
    # of=("self",): PostgreSQL cannot lock the nullable side of an outer join.
    return (
        Review.objects.select_for_update(of=("self",))
        .select_related("proposal__call", "reviewer__user", "assignment")
        .get(pk=review_id)
    )


def _require_reviewer(review: Review, user) -> None:
    """The review's own reviewer, still assigned (accepted) and not in conflict (``is_reviewing``)."""
    if user is None or review.reviewer.user_id != getattr(user, "pk", None):
        raise ScoringError(_("Only the reviewer can change this review."), code="forbidden")
    if not is_reviewing(user, review.proposal):
        raise ScoringError(_("You can no longer review this proposal."), code="not_reviewing")


def _scores_of(review: Review) -> list[Score]:
    return list(review.scores.select_related("criterion").order_by("criterion__position"))


def review_open(*, assignment_id: int, user, now: dt.datetime) -> Review:
    """The reviewer's review of an accepted assignment, created on first opening with one empty score per
    criterion of the proposal's call (``max_score`` copied so the database checks the range).

    Only for the assigned reviewer while ``is_reviewing`` holds: accepted, and no conflict of interest.
    One review per reviewer and proposal (unique constraint); opening twice returns the same review.
    """
    with transaction.atomic():
        assignment = (
            Assignment.objects.select_for_update(of=("self",))
            .select_related("reviewer", "proposal__call")
            .get(pk=assignment_id)
        )
        if assignment.reviewer.user_id != getattr(user, "pk", None):
            raise ScoringError(_("This assignment is not yours."), code="forbidden")
        if assignment.state != AssignmentState.ACCEPTED:
            raise ScoringError(_("Accept the invitation before writing the review."), code="not_accepted")
        if not is_reviewing(user, assignment.proposal):
            raise ScoringError(_("You can no longer review this proposal."), code="not_reviewing")
        review = Review.objects.filter(assignment=assignment).first()
        if review is None:
            try:
                with transaction.atomic():
                    review = Review.objects.create(
                        assignment=assignment, proposal=assignment.proposal, reviewer=assignment.reviewer,
                        created_at=now, updated_at=now,
                    )
            except IntegrityError:
                # Opened at the same moment from another tab: that request created it.
                review = Review.objects.get(assignment=assignment)
            else:
                audit_record(actor=user, target=review, action="review.open", now=now, to_state=review.state,
                             data={"assignment": assignment.pk})
        have = set(review.scores.values_list("criterion_id", flat=True))
        missing = [c for c in assignment.proposal.call.criteria.order_by("position") if c.pk not in have]
        if missing:
            Score.objects.bulk_create(
                [Score(review=review, criterion=c, max_score=c.scale_max) for c in missing], ignore_conflicts=True
            )
    return review


@dataclass
class ReviewSaveResult(SaveResult[Review]):
    """``iea.autosave.SaveResult``, plus on a conflict the criteria whose score or comment differs."""

    conflicting_criteria: list[int] = field(default_factory=list)


def review_save_draft(
    *, review_id: int, user, data: dict, scores: dict[int, tuple[Decimal | None, str]], lock_version: int,
    now: dt.datetime,
) -> ReviewSaveResult:
    """Save the reviewer's form. ``lock_version`` is the version the form was loaded with: if another
    tab saved since, nothing is written and the caller learns what differs, so two tabs never overwrite
    each other silently (as ``proposals.domain.proposal_save_draft``).

    Refused once the review is submitted, and as soon as the reviewer may no longer review (a conflict
    declared meanwhile). Each score must lie in 0..scale_max of its criterion and be a multiple of its
    step (half points by default); the message names the criterion.
    """
    with transaction.atomic():
        review = _lock_review(review_id)
        _require_reviewer(review, user)
        if review.state != ReviewState.DRAFT:
            raise ScoringError(
                _("This review is submitted and can no longer be changed. Ask the panel's officer to reopen it."),
                code="submitted",
            )
        rows = {score.criterion_id: score for score in _scores_of(review)}
        unknown = [cid for cid in scores if cid not in rows]
        if unknown:
            raise ScoringError(_("A score was given for a criterion this call does not have."), code="criterion")
        problems = [score_error(rows[cid].criterion, value) for cid, (value, _comment) in scores.items()]
        if data.get("recommendation", "") not in ("", *Recommendation.values):
            problems.append(_("Choose a recommendation from the list."))
        if any(problems):
            raise ScoringError([p for p in problems if p], code="invalid")
        data = {name: (data[name] or "").strip() for name in REVIEW_FIELDS if name in data}
        scores = {cid: (value, (comment or "").strip()) for cid, (value, comment) in scores.items()}
        changed = [name for name, value in data.items() if getattr(review, name) != value]
        changed_scores = [
            cid for cid, (value, comment) in scores.items()
            if rows[cid].score != value or rows[cid].comment != comment
        ]
        if is_stale(review, lock_version=lock_version):
            return ReviewSaveResult.conflict(review, conflicting_fields=changed, conflicting_criteria=changed_scores)
        if not changed and not changed_scores:
            return ReviewSaveResult(saved=True, record=review)
        for name in changed:
            setattr(review, name, data[name])
        dirty = []
        for cid in changed_scores:
            row = rows[cid]
            row.score, row.comment = scores[cid]
            dirty.append(row)
        if dirty:
            Score.objects.bulk_update(dirty, ["score", "comment"])
        review.save(update_fields=[*changed, *stamp_saved(review, now=now)])
    return ReviewSaveResult(saved=True, record=review)


def review_missing(review: Review) -> list[str]:
    """What submission still needs, one line per item: each criterion's score, the comment for the PI,
    the recommendation. The page shows the same list the server enforces."""
    missing = [
        _("Score “%(criterion)s”.") % {"criterion": score.criterion.label}
        for score in _scores_of(review) if score.score is None
    ]
    if not review.comment_for_pi.strip():
        missing.append(_("Write the comment for the PI."))
    if not review.recommendation:
        missing.append(_("Choose a recommendation."))
    return missing


def review_submit(*, review_id: int, user, now: dt.datetime) -> Review:
    """Submit the review: every criterion scored, a comment for the PI and a recommendation (each missing
    item is listed). The review is then locked. Submitting twice (double click, second tab) returns the
    submitted review unchanged."""
    with transaction.atomic():
        review = _lock_review(review_id)
        if review.reviewer.user_id != getattr(user, "pk", None):
            raise ScoringError(_("Only the reviewer can submit this review."), code="forbidden")
        if review.state == ReviewState.SUBMITTED:
            return review
        _require_reviewer(review, user)
        missing = review_missing(review)
        if missing:
            raise ScoringError(missing, code="incomplete")
        review.state = ReviewState.SUBMITTED
        review.submitted_at = now
        review.lock_version += 1
        review.save(update_fields=["state", "submitted_at", "lock_version"])
        audit_record(actor=user, target=review, action="review.submit", now=now, from_state=ReviewState.DRAFT,
                     to_state=ReviewState.SUBMITTED, data={"proposal": review.proposal_id})
        panel_figures_invalidate(call_id=review.proposal.call_id, institute_id=review.reviewer.institute_id)
    return review


def review_reopen(*, review_id: int, user, reason: str, now: dt.datetime) -> Review:
    """Give a submitted review back to its reviewer as a draft. Only an officer of the proposal's panel
    (not in conflict with it) or directorate staff, always with a reason, which is recorded and mailed
    to the reviewer."""
    reason = (reason or "").strip()
    with transaction.atomic():
        review = _lock_review(review_id)
        if not (is_panel_officer(user, review.proposal) or is_directorate(user)):
            raise ScoringError(_("Only an officer of the panel or the directorate can reopen a review."),
                               code="forbidden")
        if not reason:
            raise ScoringError(_("Give the reason for reopening the review; the reviewer will read it."),
                               code="reason")
        if review.state != ReviewState.SUBMITTED:
            raise ScoringError(_("This review is not submitted; there is nothing to reopen."), code="not_submitted")
        if Conflict.objects.filter(proposal_id=review.proposal_id, reviewer_id=review.reviewer_id).exists():
            raise ScoringError(_("The reviewer is in conflict with this proposal and cannot change the review."),
                               code="conflict")
        review.state = ReviewState.DRAFT
        review.submitted_at = None
        review.lock_version += 1
        review.save(update_fields=["state", "submitted_at", "lock_version"])
        audit_record(actor=user, target=review, action="review.reopen", now=now, from_state=ReviewState.SUBMITTED,
                     to_state=ReviewState.DRAFT, reason=reason, data={"proposal": review.proposal_id})
        panel_figures_invalidate(call_id=review.proposal.call_id, institute_id=review.reviewer.institute_id)
        notify_reopened(review, reason=reason, now=now)
    return review
