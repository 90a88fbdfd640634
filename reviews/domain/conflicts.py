"""Conflicts of interest between reviewers and proposals (domain.md, "Review").

Three sources: detected by the rules below, declared by the reviewer, set by the officer. A conflict
is final for the pair: the reviewer's open assignment on the proposal is withdrawn and every access
check (``reviews.rules``) asks for conflicts on each request, so access ends at the next request.
"""

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from calls.models import CallState, parse_unit_code
from iea.audit.domain import audit_entry, audit_record, audit_record_all
from iea.bulk import insert_all
from iea.text import fold
from proposals.models import Proposal, ProposalState, TeamSide

from ..models import (
    Assignment,
    AssignmentState,
    Conflict,
    ConflictDismissal,
    ConflictSource,
    Decision,
    Panel,
    Review,
    Reviewer,
    ReviewState,
)
from ..rules import can_dismiss_conflict, panel_proposals
from .coauthors import DISMISSIBLE_CAUSES, coauthor_conflicts_find
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
    "coauthor": gettext_lazy("The reviewer co-published with the PI, a team member or the partner (same ORCID iD or idHAL)"),
    "coauthor_name": gettext_lazy("The reviewer co-published with someone of the same name as the PI, a team member "
                                  "or the partner"),
    "declared": gettext_lazy("Declared by the reviewer"),
    "officer": gettext_lazy("Set by the officer"),
}

# Public mail domains say nothing about an institution.
_PUBLIC_DOMAINS = {"gmail.com", "yahoo.com", "hotmail.com", "outlook.com", "live.com", "icloud.com", "protonmail.com",
                   "gmx.de", "yandex.ru", "qq.com", "163.com", "orange.fr", "free.fr", "laposte.net", "wanadoo.fr"}
_CODES_IN_TEXT = re.compile(r"\b(" + "|".join(["UMR", "UPR", "UAR", "IRL", "EMR", "FRE", "UMI", "FR"]) + r")\s*[-_]?\s*(\d{1,4})\b", re.I)


def cause_label(cause: str) -> str:
    return str(CAUSES.get(cause, cause))


# Names and institutions compared as ``iea.text.fold`` folds them, in any script (a name written in Cyrillic
# or Greek is compared, not dropped). Cached: a panel's run compares the same ones thousands of times.
_norm = lru_cache(maxsize=65536)(fold)


def _domain(email: str) -> str:
    return (email or "").rsplit("@", 1)[-1].lower() if "@" in (email or "") else ""


@lru_cache(maxsize=65536)
def _unit_codes(text: str) -> frozenset[tuple[str, str]]:
    codes = set()
    for match in _CODES_IN_TEXT.finditer(text or ""):
        parsed = parse_unit_code(f"{match.group(1)} {match.group(2)}")
        if parsed:
            codes.add(parsed)
    return frozenset(codes)


@dataclass(frozen=True)
class DetectedConflict:
    cause: str
    detail: str

    @property
    def label(self) -> str:
        return cause_label(self.cause)


def conflicts_detect(*, proposal: Proposal, reviewer: Reviewer) -> list[DetectedConflict]:
    """Apply the detection rules of domain.md to one pair, and the co-author rule of #20
    (``reviews.domain.coauthors``); return every cause found, with its evidence.

    ``proposal`` should come with ``unit`` and ``team`` loaded; ``reviewer`` with ``user`` and ``unit``.
    """
    return [*_rules_detect(proposal, reviewer), *_coauthors(coauthor_conflicts_find(
        proposals=[proposal], reviewers=[reviewer]).get((proposal.pk, reviewer.pk), []))]


def conflicts_detect_many(*, proposals: list[Proposal], reviewers: list[Reviewer]) -> dict[tuple[int, int], list[DetectedConflict]]:
    """``conflicts_detect`` for every pair of these proposals and reviewers, the pairs with a conflict only:
    the rules on the candidate pairs (``conflict_candidates``), the co-author rule in one pass."""
    by_id = {proposal.pk: proposal for proposal in proposals}
    reviewer_by_id = {reviewer.pk: reviewer for reviewer in reviewers}
    coauthors = coauthor_conflicts_find(proposals=proposals, reviewers=reviewers)
    found = {}
    for pair in sorted(_rule_candidates(proposals, reviewers) | set(coauthors)):
        proposal_id, reviewer_id = pair
        detected = [*_rules_detect(by_id[proposal_id], reviewer_by_id[reviewer_id]), *_coauthors(coauthors.get(pair, []))]
        if detected:
            found[pair] = detected
    return found


def _coauthors(matches) -> list[DetectedConflict]:
    return [DetectedConflict(match.cause, match.detail) for match in matches]


def _rules_detect(proposal: Proposal, reviewer: Reviewer) -> list[DetectedConflict]:
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


def conflict_candidates(proposals: Iterable[Proposal], reviewers: Iterable[Reviewer]) -> set[tuple[int, int]]:
    """The (proposal id, reviewer id) pairs that share something ``conflicts_detect`` compares — a user, a
    unit, an e-mail address or domain, a name, an institution — found through an index rather than by
    trying every pair. Every pair ``conflicts_detect`` finds a conflict in is among them (a test checks it
    on random panels), so a panel of 5,000 proposals × 1,000 reviewers runs the rules on a few thousand
    pairs, not 5 million. Loaded as ``conflicts_detect`` wants them. The co-author rule finds its pairs the
    same way (``coauthor_conflicts_find`` indexes the proposals' people)."""
    return _rule_candidates(proposals, reviewers) | set(coauthor_conflicts_find(proposals=list(proposals),
                                                                                reviewers=list(reviewers)))


def _rule_candidates(proposals: Iterable[Proposal], reviewers: Iterable[Reviewer]) -> set[tuple[int, int]]:
    holders: defaultdict[tuple, set[int]] = defaultdict(set)
    for reviewer in reviewers:
        for key in _reviewer_keys(reviewer):
            holders[key].add(reviewer.pk)
    pairs = set()
    for proposal in proposals:
        for key in _proposal_keys(proposal):
            pairs.update((proposal.pk, reviewer_id) for reviewer_id in holders.get(key, ()))
    return pairs


def _reviewer_keys(reviewer: Reviewer):
    email = reviewer.user.email.lower()
    yield ("user", reviewer.user_id)
    if email:
        yield ("email", email)
    if name := _norm(reviewer.user.full_name):
        yield ("name", name)
    if reviewer.unit_id:
        yield ("unit", reviewer.unit_id)
        yield ("code", (reviewer.unit.unit_type, reviewer.unit.number))
    if reviewer.institution:
        yield ("institution", _norm(reviewer.institution))
    if (domain := _domain(email)) and domain not in _PUBLIC_DOMAINS:
        yield ("domain", domain)


def _proposal_keys(proposal: Proposal):
    yield ("user", proposal.pi_id)
    if proposal.unit_id:
        yield ("unit", proposal.unit_id)
    for member in proposal.team.all():
        if member.email:
            yield ("email", member.email.lower())
        yield ("name", _norm(member.name))
        if member.side == TeamSide.CNRS:
            yield from (("code", code) for code in _unit_codes(member.institution))
    if proposal.partner_email:
        yield ("email", proposal.partner_email.lower())
        yield ("domain", _domain(proposal.partner_email))
    yield ("name", _norm(proposal.partner_name))
    if proposal.partner_institution:
        yield ("institution", _norm(proposal.partner_institution))


def conflicts_record_detected_all(*, proposals: list[Proposal], reviewers: list[Reviewer], now: dt.datetime) -> int:
    """``conflicts_record_detected`` for every pair of a panel at once: the rules run on the candidate pairs
    only (``conflict_candidates``), and what is new is stored, withdraws the pairs' open assignments and is
    audited in a few queries. Returns how many conflicts were stored. If a conflict of the lot was stored
    meanwhile by someone else (the database's unique constraint says so), falls back to one pair at a
    time, which skips what is already there."""
    by_id = {proposal.pk: proposal for proposal in proposals}
    reviewer_by_id = {reviewer.pk: reviewer for reviewer in reviewers}
    found = conflicts_detect_many(proposals=proposals, reviewers=reviewers)
    fresh = _not_stored_yet(found, now=now)
    if not fresh:
        return 0
    try:
        with transaction.atomic():
            insert_all(fresh)
            withdrawn = _withdraw_open_assignments({(c.proposal_id, c.reviewer_id) for c in fresh}, now=now)
            entries, counted = [], set()
            for conflict in fresh:
                pair = (conflict.proposal_id, conflict.reviewer_id)
                entries.append(_audit_entry(by_id[conflict.proposal_id], conflict, user=None, now=now,
                                            withdrawn=0 if pair in counted else withdrawn.get(pair, 0)))
                counted.add(pair)
            audit_record_all(entries)
            _invalidate_figures_of_counted_reviews({(c.proposal_id, c.reviewer_id) for c in fresh}, by_id,
                                                reviewer_by_id)
    except IntegrityError:
        pairs = {(c.proposal_id, c.reviewer_id) for c in fresh}
        return sum(len(conflicts_record_detected(proposal=by_id[p], reviewer=reviewer_by_id[r], now=now))
                   for p, r in sorted(pairs))
    return len(fresh)


def _invalidate_figures_of_counted_reviews(pairs: set[tuple[int, int]], proposals: dict, reviewers: dict) -> None:
    """Submitted reviews of newly conflicted pairs stop counting: the panels they counted in are stale."""
    counted = set(Review.objects.filter(
        proposal_id__in={p for p, _ in pairs}, reviewer_id__in={r for _, r in pairs}, state=ReviewState.SUBMITTED,
    ).values_list("proposal_id", "reviewer_id"))
    panels = {(proposals[p].call_id, reviewers[r].institute_id) for p, r in counted & pairs}
    for call_id, institute_id in sorted(panels):
        panel_figures_invalidate(call_id=call_id, institute_id=institute_id)


def _not_stored_yet(found: dict, *, now: dt.datetime) -> list[Conflict]:
    """The conflicts found that are not stored yet, as unsaved rows."""
    if not found:
        return []
    stored = set(Conflict.objects.filter(
        proposal_id__in={pair[0] for pair in found}, reviewer_id__in={pair[1] for pair in found},
        source=ConflictSource.DETECTED,
    ).values_list("proposal_id", "reviewer_id", "cause"))
    return [
        Conflict(proposal_id=proposal_id, reviewer_id=reviewer_id, source=ConflictSource.DETECTED,
                 cause=conflict.cause, detail=conflict.detail, created_at=now)
        for (proposal_id, reviewer_id), detected in found.items() for conflict in detected
        if (proposal_id, reviewer_id, conflict.cause) not in stored
    ]


def _withdraw_open_assignments(pairs: set[tuple[int, int]], *, now: dt.datetime) -> dict[tuple[int, int], int]:
    """Withdraw the invited or accepted assignments of these pairs; how many per pair."""
    open_ones = [
        (pk, (proposal_id, reviewer_id)) for pk, proposal_id, reviewer_id in Assignment.objects.filter(
            proposal_id__in={p for p, _ in pairs}, state__in=[AssignmentState.INVITED, AssignmentState.ACCEPTED],
        ).values_list("pk", "proposal_id", "reviewer_id")
        if (proposal_id, reviewer_id) in pairs
    ]
    Assignment.objects.filter(pk__in=[pk for pk, _ in open_ones]).update(state=AssignmentState.WITHDRAWN, responded_at=now)
    withdrawn: defaultdict[tuple[int, int], int] = defaultdict(int)
    for _pk, pair in open_ones:
        withdrawn[pair] += 1
    return withdrawn


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
        _audit_entry(proposal, conflict, withdrawn=withdrawn, user=user, now=now).save(force_insert=True)
        if Review.objects.filter(proposal=proposal, reviewer=reviewer, state=ReviewState.SUBMITTED).exists():
            # The review stops counting: its proposal's figures and its reviewer's scale change.
            panel_figures_invalidate(call_id=proposal.call_id, institute_id=reviewer.institute_id)
    return conflict


def _audit_entry(proposal: Proposal, conflict: Conflict, *, withdrawn: int, user, now: dt.datetime):
    return audit_entry(
        actor=user, target=proposal, action="review.conflict", now=now,
        data={"reviewer": conflict.reviewer_id, "source": conflict.source, "cause": conflict.cause,
              "assignments_withdrawn": withdrawn},
    )


def conflict_declare(*, proposal_id: int, reviewer: Reviewer, user, reason: str, now: dt.datetime,
                     bidding: bool = False) -> Conflict:
    """The reviewer declares a conflict of interest, when invited or at any time after accepting
    (domain.md: "declare conflicts"; "a conflict declared mid-review removes access on the next request").

    The explanation is required: the panel's officers read it to find another reviewer, and are told by
    mail. The assignment is withdrawn; its review, draft or submitted, stops counting (``counted_reviews``
    leaves out every conflicted reviewer). A submitted review may still be declared conflicted: a review
    by a conflicted reviewer must not weigh on the outcome, whenever the conflict comes to light. Once the
    directorate has decided the proposal it is refused: the officer then handles it with the directorate.
    Declaring again is harmless (the first declaration stands, nobody is mailed twice).

    With ``bidding``, a reviewer of the panel's pool declares it from the bids page, before any assignment
    (``reviews.domain.bids.bids_save`` has checked the pool and that bidding is open): no assignment is
    needed; if one is open it is withdrawn and the officers are mailed as above.
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
        if assignment is None and not bidding:
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
        proposal = assignment.proposal if assignment is not None else Proposal.objects.get(pk=proposal_id)
        was = assignment.state if assignment is not None else ""
        conflict = _record(proposal=proposal, reviewer=reviewer, source=ConflictSource.DECLARED,
                           cause="declared", detail=reason, user=user, now=now)
        # From the bids page, the officers hear of it only if it withdrew an open assignment.
        if assignment is not None and (not bidding or was in (AssignmentState.INVITED, AssignmentState.ACCEPTED)):
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



def conflict_dismiss(*, conflict_id: int, user, reason: str, now: dt.datetime) -> ConflictDismissal:
    """The officer says a co-author conflict found on a name is a false match: the author of the reviewer's
    publication is someone else with the same name (issue #20). Only ``coauthor_name`` conflicts may be
    dismissed — a shared ORCID iD or idHAL, and every other cause, stand; only an officer of the panel (not in
    conflict with the proposal) or the directorate may, with a reason.

    The conflict row is deleted, so every access check keeps reading conflicts alone, and a
    ``ConflictDismissal`` keeps the evidence, the reason, who and when: detection skips the cause for the
    pair from then on. An assignment withdrawn when the conflict was found is not restored; the officer
    may assign the reviewer again. Two officers dismissing at once: the second is told it is done already
    (row lock, and the dismissal's unique constraint where the database has no row locks).
    """
    reason = (reason or "").strip()
    with transaction.atomic():
        conflict = (Conflict.objects.select_for_update(of=("self",)).select_related("proposal", "reviewer")
                    .filter(pk=conflict_id).first())
        if conflict is None:
            raise ValidationError(_("This conflict of interest no longer exists: it may have been dismissed already."),
                                  code="gone")
        if not can_dismiss_conflict(user, conflict):
            raise ValidationError(_("Only the panel's officers can dismiss this conflict of interest."), code="forbidden")
        if conflict.cause not in DISMISSIBLE_CAUSES:
            raise ValidationError(_("Only a co-author match on a name can be dismissed; this conflict of interest "
                                    "stands."), code="not_dismissible")
        if not reason:
            raise ValidationError(_("Say how you know it is not the same person."), code="reason")
        try:
            with transaction.atomic():
                dismissal = ConflictDismissal.objects.create(
                    proposal_id=conflict.proposal_id, reviewer_id=conflict.reviewer_id, cause=conflict.cause,
                    detail=conflict.detail, reason=reason, dismissed_at=now, dismissed_by=user,
                )
        except IntegrityError:
            raise ValidationError(_("This match was already dismissed."), code="duplicate") from None
        conflict.delete()
        audit_record(actor=user, target=conflict.proposal, action="review.conflict_dismiss", now=now, data={
            "reviewer": conflict.reviewer_id, "cause": conflict.cause, "detail": conflict.detail, "reason": reason})
        # A submitted review of the pair counts again: the panel's figures change.
        panel_figures_invalidate(call_id=conflict.proposal.call_id, institute_id=conflict.reviewer.institute_id)
    return dismissal


# The proposals whose reviewers are still being chosen (``reviews.domain.assignment.REVIEWABLE_STATES``).
_REVIEWABLE = [ProposalState.ELIGIBLE, ProposalState.IN_REVIEW]


def coauthor_conflicts_record_for_user(*, user, now: dt.datetime) -> int:
    """After ``user``'s publications changed (an import): record the conflicts detected between them, as a
    reviewer of each institute's pool they are active in, and the reviewable proposals of that institute's
    panels in calls being reviewed (closed or in review). Open assignments in conflict are withdrawn, as
    ``conflicts_record_detected_all`` does. Returns how many conflicts were stored."""
    profiles = {r.institute_id: r for r in Reviewer.objects.filter(user=user, active=True).select_related("user", "unit")}
    panels = Panel.objects.filter(institute_id__in=list(profiles),
                                  call__state__in=[CallState.CLOSED, CallState.IN_REVIEW]).order_by("pk")
    stored = 0
    for panel in panels:
        proposals = list(panel_proposals(panel, None).filter(state__in=_REVIEWABLE).select_related("unit", "call")
                         .prefetch_related("team").order_by("pk"))
        stored += conflicts_record_detected_all(proposals=proposals, reviewers=[profiles[panel.institute_id]], now=now)
    return stored
