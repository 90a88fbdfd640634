"""Eligibility screening by the directorate, once the call's deadline has passed.

The PI's page checks eligibility live and ``proposal_submit`` enforces it, but domain.md has staff
re-check it: a submitted proposal becomes eligible (it may go to review) or ineligible (with a reason
mailed to the PI). Screening waits for the deadline, because until then the PI may still change and
re-submit the proposal.
"""

import datetime as dt
from collections import Counter
from dataclasses import dataclass

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import CharField, Count, Prefetch, Q
from django.db.models.functions import Cast
from django.utils.translation import gettext as _

from calls.domain import call_deadline
from calls.models import Call
from iea import formats
from iea.audit.domain import audit_record
from iea.audit.models import AuditEntry
from iea.roles import is_directorate
from proposals.domain import Check, proposal_checklist
from proposals.domain.common import open_information_request
from proposals.models import (
    ACTIVE_STATES,
    InformationRequest,
    InformationRequestState,
    Proposal,
    ProposalState,
)

from .affinities import affinities_invalidate
from .mail import notify_ineligible

SCREENED_STATES = [ProposalState.ELIGIBLE, ProposalState.INELIGIBLE]
# A proposal found eligible goes on to review and decision: in any of these states it passed screening.
PASSED_SCREENING_STATES = [
    ProposalState.ELIGIBLE, ProposalState.IN_REVIEW, ProposalState.RANKED, ProposalState.SELECTED,
    ProposalState.RESERVE, ProposalState.REJECTED, ProposalState.FUNDED,
]


def _require_staff(user) -> None:
    if user is None or not is_directorate(user):
        raise ValidationError(_("Only directorate staff can screen proposals."), code="forbidden")


def _require_screenable(proposal: Proposal, *, now: dt.datetime) -> None:
    if proposal.state != ProposalState.SUBMITTED:
        raise ValidationError(
            _("Proposal %(ref)s is %(state)s; only submitted proposals are screened.")
            % {"ref": proposal.reference, "state": proposal.get_state_display().lower()},
            code="not_submitted",
        )
    _require_after_deadline(proposal.call, now=now)


def _require_after_deadline(call: Call, *, now: dt.datetime) -> None:
    deadline = call_deadline(call)
    if now < deadline:
        raise ValidationError(
            _("The call closes on %(deadline)s (Paris time); proposals are screened after the deadline, "
              "since until then the PI may still change them.") % {"deadline": formats.datetime(deadline, zone=False)},
            code="before_deadline",
        )


def _require_no_open_request(proposal: Proposal, *, now: dt.datetime) -> None:
    """Screening waits while the PI may still change the proposal under a request for information (#21)."""
    request = open_information_request(proposal, now=now)
    if request is not None:
        raise ValidationError(
            _("%(ref)s has an open request for information until %(deadline)s (Paris time): wait for the PI's "
              "answer, or cancel the request, before screening it.")
            % {"ref": proposal.reference, "deadline": formats.datetime(request.deadline, zone=False)},
            code="information_requested",
        )


def record_expired_requests(*, proposal_ids: list[int], user, now: dt.datetime) -> int:
    """Record, as expired, the requests for information of these proposals still stored open whose deadline
    passed: their state already was expired (``InformationRequest.state_at``); the first staff action on the
    proposal after the deadline (screening it, asking again) writes it, with its audit entry. The caller holds
    the proposals' row locks. Returns how many were recorded."""
    stale = list(InformationRequest.objects.select_for_update().select_related("proposal").filter(
        proposal_id__in=proposal_ids, state=InformationRequestState.OPEN, deadline__lte=now))
    for request in stale:
        request.state, request.closed_at = InformationRequestState.EXPIRED, request.deadline
        request.save(update_fields=["state", "closed_at"])
        audit_record(actor=user, target=request.proposal, action="proposal.rfi_expire", now=now,
                     data={"request": request.pk, "deadline": request.deadline.isoformat()})
    return len(stale)


def _mark(proposal: Proposal, *, user, eligible: bool, reason: str, now: dt.datetime) -> None:
    before = proposal.state
    proposal.state = ProposalState.ELIGIBLE if eligible else ProposalState.INELIGIBLE
    proposal.save(update_fields=["state"])
    if eligible:  # it reaches its institute's panel: the panels of the call compare new text
        affinities_invalidate(call_id=proposal.call_id)
    audit_record(
        actor=user, target=proposal, action="proposal.screen", now=now, from_state=before, to_state=proposal.state,
        reason=reason,
    )


def proposal_screen(*, proposal_id: int, user, eligible: bool, reason: str, now: dt.datetime) -> Proposal:
    """Staff confirm a submitted proposal eligible, or declare it ineligible with a reason.

    Only after the call's deadline (grace included): before it the PI may still change and re-submit.
    An ineligible proposal's PI is mailed the reason, in their language. The row is locked, so two
    staff members screening the same proposal at once cannot both act.
    """
    _require_staff(user)
    reason = (reason or "").strip()
    if not eligible and not reason:
        raise ValidationError(_("Give the reason the proposal is ineligible; it is sent to the PI."), code="reason")
    with transaction.atomic():
        proposal = Proposal.objects.select_for_update(of=("self",)).select_related("call").get(pk=proposal_id)
        _require_screenable(proposal, now=now)
        record_expired_requests(proposal_ids=[proposal.pk], user=user, now=now)
        _require_no_open_request(proposal, now=now)
        _mark(proposal, user=user, eligible=eligible, reason=reason, now=now)
        if not eligible:
            notify_ineligible(proposal, reason=reason, now=now)
    return proposal


@dataclass(frozen=True)
class Confirmed:
    """What the bulk confirm did: how many it confirmed eligible, and the references it skipped because a
    request for information is open on them (the page says so)."""

    count: int
    waiting: list[str]


def screening_confirm_eligible(*, call_id: int, user, now: dt.datetime) -> Confirmed:
    """Confirm eligible, in one go, every submitted proposal of the call that passes every automatic
    check. The others stay submitted for a person to look at, and so do those with an open request for
    information (#21): the PI may still change them."""
    _require_staff(user)
    with transaction.atomic():
        call = Call.objects.get(pk=call_id)
        _require_after_deadline(call, now=now)
        # Lock, then read: a proposal someone screened meanwhile is no longer submitted, and the rows
        # read below stay as they are until this transaction ends.
        locked = list(
            Proposal.objects.select_for_update(of=("self",))
            .filter(call=call, state=ProposalState.SUBMITTED).order_by("pk").values_list("pk", flat=True)
        )
        record_expired_requests(proposal_ids=locked, user=user, now=now)
        proposals = list(screening_queryset(call=call))
        checklists = screening_checklists(proposals=proposals, call=call)
        confirmed, waiting = 0, []
        for proposal in proposals:
            if open_information_request(proposal, now=now) is not None:
                waiting.append(proposal.reference)
            elif all(check.ok for check in checklists[proposal.pk]):
                _mark(proposal, user=user, eligible=True, reason="", now=now)
                confirmed += 1
    return Confirmed(count=confirmed, waiting=waiting)


# --- The screening page ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScreeningRow:
    proposal: Proposal
    checks: list[Check]
    now: dt.datetime | None = None

    @property
    def information_request(self) -> InformationRequest | None:
        """The proposal's latest request for information, if any (prefetched by ``screening_queryset``)."""
        requests = list(self.proposal.information_requests.all())
        return requests[0] if requests else None

    @property
    def information_state(self) -> str:
        """Where the latest request stands now: open, answered, expired, cancelled, or "" without one."""
        request = self.information_request
        return request.state_at(self.now) if request is not None and self.now is not None else ""

    @property
    def eligible(self) -> bool:
        return all(check.ok for check in self.checks)

    @property
    def failing(self) -> list[Check]:
        return [check for check in self.checks if not check.ok]


def screening_queryset(*, call: Call):
    return (
        Proposal.objects.filter(call=call, state=ProposalState.SUBMITTED)
        .select_related("call", "pi", "unit__main_institute", "evaluating_institute")
        .prefetch_related("team", "budget_lines", "letters", "unit__secondary_institutes",
                          Prefetch("information_requests",
                                   queryset=InformationRequest.objects.select_related("version").order_by("-asked_at", "-id")))
        .order_by("reference")
    )


def screening_rows(*, call: Call, now: dt.datetime | None = None) -> list[ScreeningRow]:
    """Each submitted proposal of the call with the automatic eligibility result and its latest request for
    information, in a constant number of queries whatever the number of proposals (see
    ``screening_checklists``)."""
    proposals = list(screening_queryset(call=call))
    checklists = screening_checklists(proposals=proposals, call=call)
    return [ScreeningRow(proposal=p, checks=checklists[p.pk], now=now) for p in proposals]


def screening_counts(*, call: Call) -> dict[str, int]:
    """How many proposals of the call are still to screen, were screened eligible and ineligible.

    Counted by the screening's outcome, not by the current state: a proposal screened eligible that went
    on to review, ranking or a decision still counts as eligible (the page once said "eligible: 0" for a
    call whose eight eligible proposals were all in review). One query."""
    passed = Q(state__in=PASSED_SCREENING_STATES)
    counts = Proposal.objects.filter(call=call).aggregate(
        submitted=Count("pk", filter=Q(state=ProposalState.SUBMITTED)),
        eligible=Count("pk", filter=passed),
        ineligible=Count("pk", filter=Q(state=ProposalState.INELIGIBLE)),
    )
    return {key: counts[key] or 0 for key in ("submitted", "eligible", "ineligible")}


@dataclass(frozen=True)
class ScreeningEntry:
    """One act of screening: which proposal, who, when, with what outcome and reason (the audit trail)."""

    proposal: Proposal
    actor: object
    at: dt.datetime
    eligible: bool
    reason: str


def screening_history(*, call: Call) -> list[ScreeningEntry]:
    """Who screened which proposal of the call, when, with what outcome and reason, newest first, read
    from the audit trail (``proposal.screen``, written by ``proposal_screen`` and
    ``screening_confirm_eligible``). Two queries whatever the number of proposals."""
    ids = Proposal.objects.filter(call=call).annotate(text_pk=Cast("pk", CharField())).values("text_pk")
    entries = list(
        AuditEntry.objects.filter(content_type=ContentType.objects.get_for_model(Proposal),
                                  action="proposal.screen", object_id__in=ids)
        .select_related("actor").order_by("-created_at", "-id")
    )
    proposals = Proposal.objects.in_bulk([int(entry.object_id) for entry in entries])
    return [
        ScreeningEntry(proposal=proposals[int(entry.object_id)], actor=entry.actor, at=entry.created_at,
                       eligible=entry.to_state == ProposalState.ELIGIBLE, reason=entry.reason)
        for entry in entries if int(entry.object_id) in proposals
    ]


def screening_checklists(*, proposals: list[Proposal], call: Call) -> dict[int, list[Check]]:
    """``proposals.domain.proposal_checklist`` for many proposals at once, without its per-proposal
    queries: the proposals come with their team, budget lines, letters and unit's secondary institutes
    prefetched, and the PIs' other active proposals are counted in one query.

    The deadline rule is asked of the moment the last version was received (``as_submitted``): at
    screening, after the deadline, "the call accepts submissions now" is never true.
    """
    active = Counter(dict(
        Proposal.objects.filter(call=call, state__in=ACTIVE_STATES).values_list("pi_id").annotate(n=Count("pk")).values_list("pi_id", "n")
    ))
    checklists = {}
    for proposal in proposals:
        letters = sorted(proposal.letters.all(), key=lambda letter: (letter.uploaded_at, letter.pk))
        others = active[proposal.pi_id] - (1 if proposal.state in ACTIVE_STATES else 0)
        checklists[proposal.pk] = proposal_checklist(
            proposal, now=call_deadline(call), letter=letters[-1] if letters else None, others_active=others,
            as_submitted=True,
        )
    return checklists
