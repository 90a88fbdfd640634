"""Conflicts of interest between reviewers and proposals (domain.md, "Review").

Three sources: detected by the rules below, declared by the reviewer, set by the officer. A conflict
is final for the pair: the reviewer's open assignment on the proposal is withdrawn and every access
check (``reviews.rules``) asks for conflicts on each request, so access ends at the next request.
"""

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from calls.models import parse_unit_code
from iea.audit.domain import audit_record
from proposals.models import Proposal, TeamSide

from ..models import (
    Assignment,
    AssignmentState,
    Conflict,
    ConflictSource,
    Decision,
    Review,
    Reviewer,
    ReviewState,
)
from .mail import notify_conflict_declared
from .panel_figures import panel_figures_invalidate

CAUSES = {
    "same_unit_as_pi": gettext_lazy("The reviewer belongs to the PI's unit"),
    "same_unit_as_member": gettext_lazy("The reviewer belongs to a team member's unit"),
    "is_pi": gettext_lazy("The reviewer is the PI"),
    "is_team_member": gettext_lazy("The reviewer is a member of the team"),
    "is_partner": gettext_lazy("The reviewer is the foreign partner"),
    "partner_institution": gettext_lazy("The reviewer works at the partner's institution"),
    "partner_email_domain": gettext_lazy("The reviewer's e-mail domain is the partner's"),
    "declared": gettext_lazy("Declared by the reviewer"),
    "officer": gettext_lazy("Set by the officer"),
}

# Public mail domains say nothing about an institution.
_PUBLIC_DOMAINS = {"gmail.com", "yahoo.com", "hotmail.com", "outlook.com", "live.com", "icloud.com", "protonmail.com",
                   "gmx.de", "yandex.ru", "qq.com", "163.com", "orange.fr", "free.fr", "laposte.net", "wanadoo.fr"}
_CODES_IN_TEXT = re.compile(r"\b(" + "|".join(["UMR", "UPR", "UAR", "IRL", "EMR", "FRE", "UMI", "FR"]) + r")\s*[-_]?\s*(\d{1,4})\b", re.I)


def cause_label(cause: str) -> str:
    return str(CAUSES.get(cause, cause))


def _norm(text: str) -> str:
    text = unicodedata.normalize("NFKD", text or "").encode("ascii", "ignore").decode().casefold()
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text).split())


def _domain(email: str) -> str:
    return (email or "").rsplit("@", 1)[-1].lower() if "@" in (email or "") else ""


def _unit_codes(text: str) -> set[tuple[str, str]]:
    codes = set()
    for match in _CODES_IN_TEXT.finditer(text or ""):
        parsed = parse_unit_code(f"{match.group(1)} {match.group(2)}")
        if parsed:
            codes.add(parsed)
    return codes


@dataclass(frozen=True)
class DetectedConflict:
    cause: str
    detail: str

    @property
    def label(self) -> str:
        return cause_label(self.cause)


def conflicts_detect(*, proposal: Proposal, reviewer: Reviewer) -> list[DetectedConflict]:
    """Apply the detection rules of domain.md to one pair; return every cause found, with its evidence.

    ``proposal`` should come with ``unit`` and ``team`` loaded; ``reviewer`` with ``user`` and ``unit``.
    """
    found: list[DetectedConflict] = []
    email = reviewer.user.email.lower()
    name = _norm(reviewer.user.full_name)
    if proposal.pi_id == reviewer.user_id:
        found.append(DetectedConflict("is_pi", email))
    if reviewer.unit_id and proposal.unit_id and reviewer.unit_id == proposal.unit_id:
        found.append(DetectedConflict("same_unit_as_pi", proposal.unit.code))
    reviewer_code = (reviewer.unit.unit_type, reviewer.unit.number) if reviewer.unit_id else None
    for member in proposal.team.all():
        if (member.email and member.email.lower() == email) or (name and _norm(member.name) == name):
            found.append(DetectedConflict("is_team_member", member.name))
        if reviewer_code and member.side == TeamSide.CNRS and reviewer_code in _unit_codes(member.institution):
            found.append(DetectedConflict("same_unit_as_member", f"{member.name}: {member.institution}"))
    if proposal.partner_email and proposal.partner_email.lower() == email:
        found.append(DetectedConflict("is_partner", proposal.partner_email))
    elif name and _norm(proposal.partner_name) == name:
        found.append(DetectedConflict("is_partner", proposal.partner_name))
    if reviewer.institution and proposal.partner_institution and _norm(reviewer.institution) == _norm(proposal.partner_institution):
        found.append(DetectedConflict("partner_institution", proposal.partner_institution))
    domain = _domain(email)
    if domain and domain not in _PUBLIC_DOMAINS and domain == _domain(proposal.partner_email):
        found.append(DetectedConflict("partner_email_domain", domain))
    unique: dict[str, DetectedConflict] = {}
    for conflict in found:
        unique.setdefault(conflict.cause, conflict)
    return list(unique.values())


def conflicts_record_detected(*, proposal: Proposal, reviewer: Reviewer, now: dt.datetime) -> list[Conflict]:
    """Store what ``conflicts_detect`` finds for the pair (idempotent), withdrawing an open assignment."""
    created = []
    for found in conflicts_detect(proposal=proposal, reviewer=reviewer):
        conflict = _record(proposal=proposal, reviewer=reviewer, source=ConflictSource.DETECTED, cause=found.cause,
                           detail=found.detail, user=None, now=now)
        if conflict is not None:
            created.append(conflict)
    return created


def _record(*, proposal, reviewer, source, cause, detail, user, now) -> Conflict | None:
    with transaction.atomic():
        try:
            with transaction.atomic():
                conflict = Conflict.objects.create(
                    proposal=proposal, reviewer=reviewer, source=source, cause=cause, detail=detail, created_at=now,
                    created_by=user if user is not None and user.is_authenticated else None,
                )
        except IntegrityError:
            return None
        withdrawn = Assignment.objects.filter(
            proposal=proposal, reviewer=reviewer, state__in=[AssignmentState.INVITED, AssignmentState.ACCEPTED]
        ).update(state=AssignmentState.WITHDRAWN, responded_at=now)
        audit_record(
            actor=user, target=proposal, action="review.conflict", now=now,
            data={"reviewer": reviewer.pk, "source": source, "cause": cause, "assignments_withdrawn": withdrawn},
        )
        if Review.objects.filter(proposal=proposal, reviewer=reviewer, state=ReviewState.SUBMITTED).exists():
            # The review stops counting: its proposal's figures and its reviewer's scale change.
            panel_figures_invalidate(call_id=proposal.call_id, institute_id=reviewer.institute_id)
    return conflict


def conflict_declare(*, proposal_id: int, reviewer: Reviewer, user, reason: str, now: dt.datetime) -> Conflict:
    """The reviewer declares a conflict of interest, when invited or at any time after accepting
    (domain.md: "declare conflicts"; "a conflict declared mid-review removes access on the next request").

    The explanation is required: the panel's officers read it to find another reviewer, and are told by
    mail. The assignment is withdrawn; its review, draft or submitted, stops counting (``counted_reviews``
    leaves out every conflicted reviewer). A submitted review may still be declared conflicted: a review
    by a conflicted reviewer must not weigh on the outcome, whenever the conflict comes to light. Once the
    directorate has decided the proposal it is refused: the officer then handles it with the directorate.
    Declaring again is harmless (the first declaration stands, nobody is mailed twice).
    """
    if reviewer.user_id != user.pk:
        raise ValidationError(_("Only the reviewer can declare their own conflict."), code="forbidden")
    reason = (reason or "").strip()
    with transaction.atomic():
        # The assignment is locked first, so an answer, a save or a second declaration racing this one waits.
        assignment = (
            Assignment.objects.select_for_update(of=("self",)).select_related("panel", "proposal")
            .filter(proposal_id=proposal_id, reviewer=reviewer).first()
        )
        if assignment is None:
            raise ValidationError(_("You are not assigned to this proposal."), code="not_assigned")
        existing = Conflict.objects.filter(proposal_id=proposal_id, reviewer=reviewer, source=ConflictSource.DECLARED,
                                           cause="declared").first()
        if existing is not None:
            return existing
        if not reason:
            raise ValidationError(_("Explain your conflict of interest, so the officer can find another reviewer."),
                                  code="reason")
        if Decision.objects.filter(proposal_id=proposal_id).exists():
            raise ValidationError(_("The directorate has already decided on this proposal: write to the panel's "
                                    "officer about your conflict of interest."), code="decided")
        was = assignment.state
        conflict = _record(proposal=assignment.proposal, reviewer=reviewer, source=ConflictSource.DECLARED,
                           cause="declared", detail=reason, user=user, now=now)
        notify_conflict_declared(assignment, reason=reason, was=was, now=now)
    return conflict


def conflict_set_by_officer(*, proposal_id: int, reviewer: Reviewer, user, reason: str, now: dt.datetime) -> Conflict:
    """The officer records a conflict they know of, with the reason."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(_("Give the reason for the conflict."), code="reason")
    proposal = Proposal.objects.get(pk=proposal_id)
    conflict = _record(proposal=proposal, reviewer=reviewer, source=ConflictSource.OFFICER, cause="officer",
                       detail=reason, user=user, now=now)
    return conflict or Conflict.objects.get(proposal=proposal, reviewer=reviewer, source=ConflictSource.OFFICER, cause="officer")


def conflicted_pairs(*, proposal_ids, reviewer_ids) -> set[tuple[int, int]]:
    """(proposal id, reviewer id) pairs with a stored conflict, in one query."""
    return set(
        Conflict.objects.filter(proposal_id__in=list(proposal_ids), reviewer_id__in=list(reviewer_ids))
        .values_list("proposal_id", "reviewer_id")
    )

