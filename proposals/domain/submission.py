"""Submission (a frozen, hashed version; idempotent and race-safe) and withdrawal."""

import datetime as dt
import hashlib
import json
import logging
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import prefetch_related_objects
from django.utils.translation import gettext as _

from calls.domain import call_deadline
from iea.audit.domain import audit_record

from ..models import (
    Proposal,
    ProposalState,
    ProposalVersion,
    SupportLetter,
)
from .common import ProposalError, _lock, _now_editable, _require_pi
from .eligibility import proposal_budget_total, proposal_checklist
from .mail import notify_submitted, notify_withdrawn
from .partner import current_letter

log = logging.getLogger("iea.proposals")


def proposal_snapshot(proposal: Proposal, letter: SupportLetter) -> dict:
    """The content a version freezes. Its SHA-256 tells whether anything changed since the last submission."""
    return {
        "reference": proposal.reference,
        "call": proposal.call.year,
        "title": proposal.title,
        "acronym": proposal.acronym,
        "abstract": proposal.abstract,
        "keywords": proposal.keywords,
        "unit": proposal.unit.code if proposal.unit_id else "",
        "unit_name": proposal.unit.name if proposal.unit_id else "",
        "institute": proposal.institute.code if proposal.institute else "",
        "partner": {
            "name": proposal.partner_name,
            "email": proposal.partner_email,
            "institution": proposal.partner_institution,
            "country": proposal.partner_country.code,
        },
        "team": [
            {"side": m.side, "name": m.name, "email": m.email, "position": m.position, "institution": m.institution,
             "early_career": m.early_career}
            for m in sorted(proposal.team.all(), key=lambda m: (m.side, m.pk))
        ],
        "activities": proposal.activities,
        "ethics_statement": proposal.ethics_statement,
        "budget": [
            {"year": line.year, "category": line.category, "amount": f"{line.amount:.2f}"}
            for line in sorted(proposal.budget_lines.all(), key=lambda line: (line.year, line.category))
        ],
        "budget_total": f"{proposal_budget_total(proposal):.2f}",
        "letter": {
            "name": letter.original_name, "sha256": letter.sha256, "size": letter.size, "cofunding": letter.cofunding,
            "cofunding_amount": f"{letter.cofunding_amount:.2f}" if letter.cofunding_amount is not None else None,
            "cofunding_currency": letter.cofunding_currency,
        },
    }


def content_hash(content: dict) -> str:
    return hashlib.sha256(json.dumps(content, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def _log_late_submission(proposal: Proposal, *, user, now: dt.datetime) -> None:
    """One line per submission refused after the deadline (grace included), for the web and the API alike:
    a PI who says "I submitted in time" can be answered from the logs."""
    log.warning(
        "late submission refused: %s", proposal.reference,
        extra={"event": "proposal.submit_late", "proposal": proposal.reference, "call_id": proposal.call_id,
               "deadline": call_deadline(proposal.call).isoformat(), "attempted_at": now.isoformat(),
               "user_id": getattr(user, "pk", None)},
    )


def freeze_version(
    proposal: Proposal, *, user, letter: SupportLetter, last: ProposalVersion | None, now: dt.datetime,
) -> ProposalVersion:
    """Freeze the proposal as it stands into its next version (content, letter, SHA-256) and mark it submitted
    at ``now``: a submission, and the answer to a request for information (``information_answer``). The caller
    holds the proposal's row lock and writes the audit entry."""
    snapshot = proposal_snapshot(proposal, letter)
    version = ProposalVersion.objects.create(
        proposal=proposal, number=(last.number + 1) if last else 1, submitted_at=now, submitted_by=user,
        content=snapshot, content_sha256=content_hash(snapshot), letter=letter,
    )
    proposal.state = ProposalState.SUBMITTED
    proposal.submitted_at = now
    proposal.has_unsubmitted_changes = False
    proposal.save(update_fields=["state", "submitted_at", "has_unsubmitted_changes"])
    return version


@dataclass(frozen=True)
class SubmitResult:
    version: ProposalVersion
    created: bool


def proposal_submit(*, proposal_id: int, user, now: dt.datetime) -> SubmitResult:
    """Submit (or re-submit) a proposal and freeze a version with the SHA-256 of its content and letter.

    The deadline is checked against ``now``, the moment of the request, grace included. The proposal row
    is locked, and a submission whose content equals the last version returns that version: a double
    click, a second tab or a retried request gives one submission. The unique (proposal, number)
    constraint backs this up on databases without row locks.
    """
    try:
        with transaction.atomic():
            proposal = _lock(proposal_id, related=("unit__main_institute", "evaluating_institute", "pi"))
            # The checklist and the snapshot both read the team and the budget: once each.
            prefetch_related_objects([proposal], "team", "budget_lines")
            _require_pi(proposal, user, refusal=_("Only the PI can submit this proposal."))
            last = proposal.versions.order_by("-number").first()
            letter = current_letter(proposal)
            if last is not None and letter is not None and proposal.state == ProposalState.SUBMITTED:
                snapshot = proposal_snapshot(proposal, letter)
                if content_hash(snapshot) == last.content_sha256:
                    if proposal.has_unsubmitted_changes:
                        # The edits since the last submission were undone: nothing is left to submit.
                        proposal.has_unsubmitted_changes = False
                        proposal.save(update_fields=["has_unsubmitted_changes"])
                    return SubmitResult(version=last, created=False)
            try:
                _now_editable(proposal, now=now)
            except ProposalError as refusal:
                if refusal.code == "closed":
                    _log_late_submission(proposal, user=user, now=now)
                raise
            failing = [c for c in proposal_checklist(proposal, now=now, letter=letter) if not c.ok]
            if failing:
                raise ProposalError(
                    [_("%(rule)s: %(detail)s") % {"rule": c.label, "detail": c.detail} if c.detail else c.label for c in failing],
                    code="ineligible",
                )
            before = proposal.state
            version = freeze_version(proposal, user=user, letter=letter, last=last, now=now)
            audit_record(
                actor=user, target=proposal, action="proposal.submit" if last is None else "proposal.resubmit",
                now=now, from_state=before, to_state=proposal.state,
                data={"version": version.number, "content_sha256": version.content_sha256, "letter_sha256": letter.sha256},
            )
            notify_submitted(version=version, now=now)
    except IntegrityError:
        # Another request froze the same content at the same moment; its version is this submission.
        version = ProposalVersion.objects.filter(proposal_id=proposal_id).order_by("-number").first()
        if version is None:
            raise
        return SubmitResult(version=version, created=False)
    return SubmitResult(version=version, created=True)


def proposal_withdraw(*, proposal_id: int, user, now: dt.datetime, reason: str = "") -> Proposal:
    """The PI withdraws a draft or a submitted proposal while the call is open. It then no longer
    counts against the PI's limit, and it can never be submitted again."""
    with transaction.atomic():
        proposal = _lock(proposal_id)
        _require_pi(proposal, user, refusal=_("Only the PI can withdraw this proposal."))
        _now_editable(proposal, now=now)
        before = proposal.state
        proposal.state = ProposalState.WITHDRAWN
        proposal.updated_at = now
        proposal.lock_version += 1
        proposal.save(update_fields=["state", "updated_at", "lock_version"])
        audit_record(
            actor=user, target=proposal, action="proposal.withdraw", now=now, from_state=before,
            to_state=proposal.state, reason=reason,
        )
        if before == ProposalState.SUBMITTED:
            notify_withdrawn(proposal=proposal, now=now)
    return proposal
