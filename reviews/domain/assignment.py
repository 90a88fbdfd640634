"""Who reviews what: manual assignment by the officer, the reviewer's answer, and the panel's setup.

Automatic assignment lives in ``reviews.domain.auto_assign`` (the panel) and ``matching`` (the min-cost flow).
"""

import datetime as dt
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from iea.audit.domain import audit_entry, audit_record, audit_record_all
from iea.bulk import insert_all
from proposals.models import Proposal, ProposalState

from ..models import (
    REVIEWABLE_STATES,
    Assignment,
    AssignmentState,
    Conflict,
    ConflictSource,
    Decision,
    Panel,
    Reviewer,
    ReviewState,
)
from ..rules import OPEN_ASSIGNMENT_STATES, panel_proposals
from .conflicts import (
    cause_label,
    conflicts_detect_many,
    conflicts_record_detected,
    conflicts_record_detected_all,
)
from .mail import notify_assigned_all
from .suggestions import suggestion_record


def panel_get_or_create(*, call, institute, now: dt.datetime, user=None) -> Panel:
    """The panel of a call in an institute; a new one starts with the institute's officers."""
    panel, created = Panel.objects.get_or_create(
        call=call, institute=institute, defaults={"reviews_per_proposal": call.reviews_per_proposal}
    )
    if created:
        panel.officers.set(institute.officers.all())
        audit_record(actor=user, target=panel, action="panel.create", now=now)
    return panel


def default_due_at(panel: Panel, now: dt.datetime) -> dt.datetime:
    return panel.review_due_at or now + dt.timedelta(days=21)


def assignment_create(
    *, panel: Panel, proposal: Proposal, reviewer: Reviewer, user, now: dt.datetime, due_at: dt.datetime | None = None,
    automatic: bool = False,
) -> Assignment:
    """Ask a reviewer of the institute's pool to review an eligible proposal of the panel.

    Conflicts are detected first; a conflicted reviewer is refused with the cause. Moves the proposal
    from eligible to in review. The reviewer is mailed the title, abstract and teams.
    """
    if reviewer.institute_id != panel.institute_id or not reviewer.active:
        raise ValidationError(_("This reviewer is not in the institute's active pool."), code="not_in_pool")
    # Detected conflicts are kept even when the assignment is refused, so the officer sees them.
    with transaction.atomic():
        conflicts_record_detected(
            proposal=Proposal.objects.select_related("unit").prefetch_related("team").get(pk=proposal.pk),
            reviewer=reviewer, now=now,
        )
    with transaction.atomic():
        locked = Proposal.objects.select_for_update(of=("self",)).select_related("unit").get(pk=proposal.pk)
        refusal = _pair_refusal(
            in_panel=panel_proposals(panel, None).filter(pk=locked.pk).exists(), proposal=locked, reviewer=reviewer,
            causes=[c.cause for c in reviewer.conflicts.filter(proposal=locked)], assigned=False,
        )
        if refusal is not None:
            raise refusal
        try:
            with transaction.atomic():
                [assignment] = assignments_record(panel=panel, pairs=[(locked, reviewer)], user=user, now=now,
                                                  due_at=due_at, automatic=automatic)
        except IntegrityError:
            raise ValidationError(_("This reviewer was already asked to review this proposal."), code="duplicate") from None
    return assignment


def _pair_refusal(*, in_panel: bool, proposal: Proposal, reviewer: Reviewer, causes: list[str],
                  assigned: bool) -> ValidationError | None:
    """Why ``reviewer`` may not be asked to review ``proposal`` (None if they may): the rules of
    ``assignment_create``, for one pair or a batch, applied or previewed."""
    if not in_panel:
        return ValidationError(_("This proposal is not evaluated by this panel."), code="wrong_panel")
    if proposal.state not in REVIEWABLE_STATES:
        return ValidationError(
            _("Only eligible proposals go to review; this one is %(state)s.") % {"state": proposal.get_state_display().lower()},
            code="not_eligible",
        )
    if causes:
        return ValidationError(
            _("%(reviewer)s cannot review this proposal: %(causes)s.") % {
                "reviewer": reviewer.user, "causes": ", ".join(cause_label(cause) for cause in dict.fromkeys(causes))},
            code="conflict",
        )
    if assigned:
        return ValidationError(_("This reviewer was already asked to review this proposal."), code="duplicate")
    return None


@dataclass(frozen=True)
class PlannedAssignment:
    """One pair of a batch assignment: the proposal, and why it will not be assigned ('' if it will)."""

    proposal: Proposal
    refused: str = ""


def assignments_plan(*, panel: Panel, reviewer: Reviewer, proposals: list[Proposal]) -> list[PlannedAssignment]:
    """What asking ``reviewer`` to review each of ``proposals`` would do, without writing anything: the rules
    of ``assignment_create``, with the conflicts ``conflicts_detect`` finds counted as if stored. The
    proposals come with ``unit``, ``call`` and ``team`` loaded, the reviewer with ``user`` and ``unit``. Five
    queries (the co-author rule reads the reviewer's recent publications), eight when there are some."""
    ids = [proposal.pk for proposal in proposals]
    in_panel = set(panel_proposals(panel, None).filter(pk__in=ids).values_list("pk", flat=True))
    stored: dict[int, list[str]] = {}
    for proposal_id, cause in Conflict.objects.filter(reviewer=reviewer, proposal_id__in=ids).values_list(
            "proposal_id", "cause"):
        stored.setdefault(proposal_id, []).append(cause)
    assigned = set(Assignment.objects.filter(reviewer=reviewer, proposal_id__in=ids).values_list("proposal_id", flat=True))
    detected = conflicts_detect_many(proposals=proposals, reviewers=[reviewer])
    plan = []
    for proposal in proposals:
        causes = [*stored.get(proposal.pk, []), *(found.cause for found in detected.get((proposal.pk, reviewer.pk), []))]
        refusal = _pair_refusal(in_panel=proposal.pk in in_panel, proposal=proposal, reviewer=reviewer, causes=causes,
                                assigned=proposal.pk in assigned)
        plan.append(PlannedAssignment(proposal=proposal, refused=refusal.messages[0] if refusal else ""))
    return plan


def reviewer_load(*, panel: Panel, reviewer: Reviewer) -> int:
    """The reviewer's open assignments (invited or accepted) in the panel."""
    return Assignment.objects.filter(panel=panel, reviewer=reviewer, state__in=OPEN_ASSIGNMENT_STATES).count()


def assignments_create_many(*, panel_id: int, reviewer_id: int, proposal_ids: list[int], user, now: dt.datetime,
                            due_at: dt.datetime | None = None) -> list[Assignment]:
    """Ask one reviewer to review several proposals of the panel at once (the officer's batch), each pair under
    the rules of ``assignment_create`` (``assignments_plan``). The conflicts detected are stored first and kept,
    as for one pair; then one transaction locks the proposals (in pk order, as every batch does, so two never
    deadlock), and either every pair is assigned or, if one is refused, none."""
    panel = Panel.objects.get(pk=panel_id)
    reviewer = Reviewer.objects.select_related("user", "unit").get(pk=reviewer_id)
    if reviewer.institute_id != panel.institute_id or not reviewer.active:
        raise ValidationError(_("This reviewer is not in the institute's active pool."), code="not_in_pool")
    ids = sorted(set(proposal_ids))
    conflicts_record_detected_all(
        proposals=list(Proposal.objects.select_related("unit", "call").prefetch_related("team").filter(pk__in=ids)
                       .order_by("pk")), reviewers=[reviewer], now=now)
    with transaction.atomic():
        locked = list(Proposal.objects.select_for_update(of=("self",)).select_related("unit", "call").prefetch_related("team")
                      .filter(pk__in=ids).order_by("pk"))
        if len(locked) != len(ids):
            raise ValidationError(_("This proposal is not evaluated by this panel."), code="wrong_panel")
        for planned in assignments_plan(panel=panel, reviewer=reviewer, proposals=locked):
            if planned.refused:
                raise ValidationError(_("%(reference)s: %(reason)s") % {
                    "reference": planned.proposal.reference, "reason": planned.refused}, code="refused")
        try:
            with transaction.atomic():
                return assignments_record(panel=panel, pairs=[(proposal, reviewer) for proposal in locked], user=user,
                                          now=now, due_at=due_at)
        except IntegrityError:
            raise ValidationError(_("This reviewer was already asked to review this proposal."), code="duplicate") from None


def assignments_record(
    *, panel: Panel, pairs: list[tuple[Proposal, Reviewer]], user, now: dt.datetime, due_at: dt.datetime | None = None,
    automatic: bool = False, reasons: dict[tuple[int, int], dict] | None = None,
) -> list[Assignment]:
    """Record the assignments of (proposal, reviewer) pairs the caller has checked and holds the proposals'
    row locks for (``assignment_create`` for one pair, ``reviews.domain.auto_assign`` for a panel): each
    eligible proposal moves to in review, every change is audited, and each reviewer gets the invitation
    (title, abstract and teams) once the transaction commits. A few queries for any number of pairs.
    ``reviewer.user`` must be loaded; the proposals' ``state`` is updated in place. ``reasons`` gives, per
    (proposal id, reviewer id), why automatic assignment chose it (``Assignment.reasons``)."""
    reasons = reasons or {}
    due_at = due_at or default_due_at(panel, now)
    by = user.pk if user is not None and user.is_authenticated else None
    assignments = insert_all([  # ids rather than objects, but the reviewer: the invitations read its user
        Assignment(panel_id=panel.pk, proposal_id=proposal.pk, reviewer=reviewer, due_at=due_at, created_at=now,
                   created_by_id=by, automatic=automatic, reasons=reasons.get((proposal.pk, reviewer.pk), {}))
        for proposal, reviewer in pairs
    ])
    starting = list({proposal.pk: proposal for proposal, _ in pairs if proposal.state == ProposalState.ELIGIBLE}.values())
    Proposal.objects.filter(pk__in=[proposal.pk for proposal in starting]).update(state=ProposalState.IN_REVIEW)
    entries = []
    for proposal in starting:
        proposal.state = ProposalState.IN_REVIEW
        entries.append(audit_entry(actor=user, target=proposal, action="proposal.review_start", now=now,
                                   from_state=ProposalState.ELIGIBLE, to_state=ProposalState.IN_REVIEW))
    entries += [
        audit_entry(actor=user, target=proposal, action="review.assign", now=now,
                    data={"reviewer": assignment.reviewer_id, "assignment": assignment.pk, "automatic": automatic})
        for assignment, (proposal, _) in zip(assignments, pairs, strict=True)
    ]
    audit_record_all(entries)
    notify_assigned_all(assignments, now=now)
    return assignments


def assignment_respond(*, assignment_id: int, user, accept: bool, reason: str = "", now: dt.datetime,
                       suggestion: dict | None = None) -> Assignment:
    """The reviewer accepts or declines (with a reason) an invitation. Declining, they may suggest a colleague
    (``suggestion``: name, email, reason; ``reviews.domain.suggestions``), saved with the answer."""
    with transaction.atomic():
        assignment = Assignment.objects.select_for_update().select_related("reviewer").get(pk=assignment_id)
        if assignment.reviewer.user_id != user.pk:
            raise ValidationError(_("This invitation is not yours."), code="forbidden")
        if assignment.state != AssignmentState.INVITED:
            raise ValidationError(
                _("This invitation was already answered (%(state)s).") % {"state": assignment.get_state_display().lower()},
                code="answered",
            )
        if not accept and not (reason or "").strip():
            raise ValidationError(_("Say briefly why you decline, so the officer can find someone else."), code="reason")
        before = assignment.state
        assignment.state = AssignmentState.ACCEPTED if accept else AssignmentState.DECLINED
        assignment.decline_reason = "" if accept else reason.strip()
        assignment.responded_at = now
        assignment.save(update_fields=["state", "decline_reason", "responded_at"])
        audit_record(actor=user, target=assignment, action="review.accept" if accept else "review.decline", now=now,
                     from_state=before, to_state=assignment.state, reason=assignment.decline_reason)
        if not accept and suggestion:
            suggestion_record(assignment=assignment, user=user, now=now, **suggestion)
    return assignment


def assignments_close(*, proposal_ids: list[int], user, now: dt.datetime) -> None:
    """Close the assignments whose review is still awaited (invited or accepted, nothing submitted) on these
    proposals, each audited: their decision is announced, so the reviewer is no longer asked. Runs inside
    the announcement's transaction (``funding.domain.decisions.decisions_announce``), which the row locks
    need."""
    assignments = list(
        Assignment.objects.select_for_update(of=("self",)).select_related("proposal")
        .filter(proposal_id__in=proposal_ids, state__in=OPEN_ASSIGNMENT_STATES)
        .exclude(review__state=ReviewState.SUBMITTED).order_by("pk")
    )
    for assignment in assignments:
        before = assignment.state
        assignment.state = AssignmentState.CLOSED
        assignment.save(update_fields=["state"])
        audit_record(actor=user, target=assignment, action="review.close", now=now, from_state=before,
                     to_state=assignment.state, data={"proposal": assignment.proposal.reference})


@dataclass(frozen=True)
class ClosedAssignment:
    """Why a reviewer's own assignment no longer opens: ``why`` is one of ``conflict_declared``,
    ``conflict`` (detected or set by the officer), ``declined``, ``withdrawn``, ``off_pool`` or ``closed``;
    ``at`` is when it happened, when known."""

    assignment: Assignment
    why: str
    at: dt.datetime | None = None


def assignment_closed_reason(*, user, assignment_id: int) -> ClosedAssignment | None:
    """The one answer to "why can't I open this any more?" for a reviewer following an old link (a mail,
    a bookmark). Only for the reviewer's own assignment: anyone else learns nothing (None)."""
    if not user.is_authenticated:
        return None
    assignment = (
        Assignment.objects.filter(pk=assignment_id, reviewer__user=user)
        .select_related("reviewer", "proposal", "panel__institute").first()
    )
    if assignment is None:
        return None
    conflicts = list(Conflict.objects.filter(proposal_id=assignment.proposal_id, reviewer__user=user)
                     .order_by("created_at", "pk"))
    declared = next((c for c in conflicts if c.source == ConflictSource.DECLARED), None)
    if declared is not None:
        return ClosedAssignment(assignment, "conflict_declared", declared.created_at)
    if conflicts:
        return ClosedAssignment(assignment, "conflict", conflicts[0].created_at)
    if assignment.state == AssignmentState.DECLINED:
        return ClosedAssignment(assignment, "declined", assignment.responded_at)
    if assignment.state == AssignmentState.WITHDRAWN:
        return ClosedAssignment(assignment, "withdrawn", assignment.responded_at)
    if assignment.state == AssignmentState.CLOSED:
        mailed = Decision.objects.filter(proposal_id=assignment.proposal_id).values_list("notified_at", flat=True).first()
        return ClosedAssignment(assignment, "decided", mailed)
    if not assignment.reviewer.active:
        return ClosedAssignment(assignment, "off_pool")
    if assignment.state not in (AssignmentState.INVITED, AssignmentState.ACCEPTED):
        return ClosedAssignment(assignment, "closed", assignment.responded_at)
    return None
