"""The outcome told to the reviewers (issue #20): when the call says so (``Call.outcome_to_reviewers``), a
reviewer who submitted a review of a proposal learns, once the decision mail went out, the decision's outcome
and the panel's consensus summary — the same summary the PI receives with the evaluation.

Never the amount: domain.md sends it to the PI, the partner and the unit (the "decision" row of the
notifications), not to the reviewers, who judged the budget's justification, not the award. Who may learn
what is ``reviews.rules.outcome_told``: a reviewer found in conflict later, a declined or withdrawn
assignment, or a call with the setting off gets nothing, on the page as in the mail.

The mail is one digest per reviewer and batch of decision mails ("the outcome of the N proposals you
reviewed"), queued in the same transaction as the decision mails, after them.
"""

import datetime as dt
from dataclasses import dataclass

from django.contrib.contenttypes.models import ContentType
from django.db.models import QuerySet

from calls.models import Call
from iea.audit.domain import audit_entry, audit_record_all
from iea.notifications.models import Notification

from ..models import Assignment
from ..rules import outcome_assignments_for, outcome_told
from .mail import notify_outcome_digests

# The outbox's kind of the digest (declared in ``reviews.notifications``).
OUTCOME_KIND = "review_outcome"


@dataclass(frozen=True)
class ReviewedOutcome:
    """What a reviewer learns of one proposal they reviewed."""

    assignment_id: int
    proposal_id: int
    reference: str
    acronym: str
    title: str
    outcome: str  # DecisionOutcome
    outcome_label: str
    consensus: str
    notified_at: dt.datetime


def _outcomes(assignments: QuerySet) -> list[ReviewedOutcome]:
    rows = (assignments.select_related("proposal__decision", "proposal__panel_recommendation")
            .only("pk", "proposal__reference", "proposal__acronym", "proposal__title",
                  "proposal__decision__outcome", "proposal__decision__notified_at",
                  "proposal__panel_recommendation__consensus")
            .order_by("proposal__reference", "pk"))
    found = []
    for assignment in rows:
        proposal = assignment.proposal
        recommendation = getattr(proposal, "panel_recommendation", None)
        found.append(ReviewedOutcome(
            assignment_id=assignment.pk, proposal_id=proposal.pk, reference=proposal.reference,
            acronym=proposal.acronym, title=proposal.title, outcome=proposal.decision.outcome,
            outcome_label=proposal.decision.get_outcome_display(),
            consensus=(recommendation.consensus.strip() if recommendation else ""),
            notified_at=proposal.decision.notified_at,
        ))
    return found


def outcomes_by_assignment(*, user, assignment_ids: list[int]) -> dict[int, ReviewedOutcome]:
    """The outcomes the reviewer may read among these assignments of the list's page (one query)."""
    if not assignment_ids:
        return {}
    assignments = outcome_assignments_for(user).filter(pk__in=assignment_ids)
    return {outcome.assignment_id: outcome for outcome in _outcomes(assignments)}


def outcomes_of_digest(*, user, call_id: int, proposal_ids: list[int]) -> list[ReviewedOutcome]:
    """What a digest tells its reviewer, read again when it is sent: a conflict found, or the setting turned
    off since, drops the proposal (or the whole message: ``reviews.notifications``)."""
    if user is None:
        return []
    return _outcomes(outcome_assignments_for(user).filter(proposal__call_id=call_id, proposal_id__in=proposal_ids))


def outcome_notify_reviewers(*, decision_ids: list[int], user, now: dt.datetime) -> int:
    """Tell the reviewers the outcome of the proposals of a batch of decision mails (``decision_ids``, just
    marked sent): one digest per reviewer and call, in their language, with the audit entry of each.

    Called by ``funding.domain.decisions.decisions_announce`` inside its transaction, after the decision
    mails are queued, so both land or neither. Idempotent: the digest's occurrence is the moment the
    decisions were mailed, so the same batch told twice records nothing new (the outbox's unique key), and a
    reviewer already told of it gets no second audit entry. A reserve promoted later is a new batch.
    Returns how many digests were recorded.
    """
    if not decision_ids:
        return 0
    rows = list(
        outcome_told(Assignment.objects.filter(proposal__decision__pk__in=decision_ids))
        .select_related("reviewer__user", "proposal__call", "proposal__decision")
        .only("pk", "proposal_id", "proposal__reference", "proposal__call_id", "proposal__call__year",
              "proposal__decision__notified_at", "reviewer__user")
        .order_by("proposal__reference", "pk")
    )
    digests: dict[tuple[int, int], dict] = {}
    for assignment in rows:
        reviewer = assignment.reviewer.user
        digest = digests.setdefault((reviewer.pk, assignment.proposal.call_id), {
            "user": reviewer, "call": assignment.proposal.call, "proposals": [], "references": [],
            "notified_at": assignment.proposal.decision.notified_at,
        })
        if assignment.proposal_id not in digest["proposals"]:
            digest["proposals"].append(assignment.proposal_id)
            digest["references"].append(assignment.proposal.reference)
        digest["notified_at"] = max(digest["notified_at"], assignment.proposal.decision.notified_at)
    if not digests:
        return 0
    for digest in digests.values():
        digest["occurrence"] = digest["notified_at"].isoformat()
    told = set(Notification.objects.filter(
        kind=OUTCOME_KIND, content_type=ContentType.objects.get_for_model(Call),
        object_id__in={digest["call"].pk for digest in digests.values()},
        occurrence__in={digest["occurrence"] for digest in digests.values()},
    ).values_list("object_id", "email", "occurrence"))
    fresh = [digest for digest in digests.values()
             if (digest["call"].pk, digest["user"].email.lower(), digest["occurrence"]) not in told
             and digest["user"].email]
    notify_outcome_digests(fresh, kind=OUTCOME_KIND, now=now)
    audit_record_all(
        audit_entry(actor=user, target=digest["user"], action="review.outcome_told", now=now,
                    data={"call": digest["call"].year, "proposals": digest["references"]})
        for digest in fresh
    )
    return len(fresh)

