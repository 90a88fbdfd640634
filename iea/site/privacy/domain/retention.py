"""How long a proposal keeps its personal data (the retention policy), as dates and as a queryset.

The rule (no rule of the call text; the period is the call's ``retention_years``, default 5 — config):

- a proposal that ended without funding — never submitted (draft), withdrawn, ineligible, on the reserve
  list or rejected — keeps its personal data until ``retention_years`` after the later of its call's
  closing (grace included) and its decision;
- a funded proposal keeps it until ``retention_years`` after its award closed; while the award runs
  (or is suspended), it is kept;
- a proposal whose evaluation has not concluded (submitted, eligible, in review, ranked, selected without
  an award yet) is kept: staff settle it first;
- nothing is erased before the call has closed.
"""

import datetime as dt
from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from calls.domain import call_deadline
from calls.models import Call, CallState
from funding.models import AwardState
from iea import formats
from proposals.models import Proposal, ProposalState

# Ended without funding: nothing more will happen to them once the call is over.
ENDED_UNFUNDED = (ProposalState.DRAFT, ProposalState.WITHDRAWN, ProposalState.INELIGIBLE, ProposalState.RESERVE,
                  ProposalState.REJECTED)
# The evaluation has not concluded: never anonymised automatically.
UNCONCLUDED = (ProposalState.SUBMITTED, ProposalState.ELIGIBLE, ProposalState.IN_REVIEW, ProposalState.RANKED,
               ProposalState.SELECTED)
CLOSED_CALL_STATES = (CallState.CLOSED, CallState.IN_REVIEW, CallState.DECIDED, CallState.ARCHIVED)


def years_after(moment: dt.datetime, years: int) -> dt.datetime:
    """The same calendar moment ``years`` later (29 February becomes 28 February)."""
    try:
        return moment.replace(year=moment.year + years)
    except ValueError:
        return moment.replace(year=moment.year + years, day=28)


def years_before(moment: dt.datetime, years: int) -> dt.datetime:
    return years_after(moment, -years)


@dataclass(frozen=True)
class Blocker:
    """Why a proposal's personal data is still kept: ``until`` is the moment it no longer is, or None when
    that depends on something still to happen (an award to close, an evaluation to conclude)."""

    code: str  # "retention" | "award_running" | "unconcluded"
    reference: str
    call: str
    until: dt.datetime | None

    def as_data(self) -> dict:
        return {"code": self.code, "reference": self.reference, "call": self.call,
                "until": self.until.isoformat() if self.until else None}

    @classmethod
    def from_data(cls, data: dict) -> "Blocker":
        until = data.get("until")
        return cls(code=data.get("code", ""), reference=data.get("reference", ""), call=data.get("call", ""),
                   until=dt.datetime.fromisoformat(until) if until else None)

    def describe(self) -> str:
        """In the active language, for the person's page, their mail and the admin."""
        params = {"reference": self.reference, "call": self.call}
        if self.code == "award_running":
            return _("The award of your proposal %(reference)s (%(call)s) is still running: its records are kept "
                     "until it closes, then for the call's retention period.") % params
        if self.code == "unconcluded":
            return _("Your proposal %(reference)s (%(call)s) is still being evaluated.") % params
        return _("Your proposal %(reference)s (%(call)s) must be kept until %(until)s (the call's retention "
                 "period).") % {**params, "until": formats.date(self.until) if self.until else "—"}


def retained_until(proposal: Proposal) -> tuple[dt.datetime | None, str]:
    """The moment the proposal's personal data may be erased, and the rule that sets it (a ``Blocker``
    code). ``None`` when it depends on something still to happen. Reads ``proposal.call``,
    ``proposal.award`` and ``proposal.decision`` (select them)."""
    call = proposal.call
    years = call.retention_years
    if proposal.state == ProposalState.FUNDED:
        award = getattr(proposal, "award", None)
        if award is None or award.state != AwardState.CLOSED or award.closed_at is None:
            return None, "award_running"
        return years_after(max(award.closed_at, call_deadline(call)), years), "retention"
    if proposal.state in UNCONCLUDED:
        return None, "unconcluded"
    start = call_deadline(call)
    decision = getattr(proposal, "decision", None)
    if decision is not None and decision.decided_at > start:
        start = decision.decided_at
    return years_after(start, years), "retention"


def retention_blocker(proposal: Proposal, *, now: dt.datetime) -> Blocker | None:
    """Why the proposal's personal data must still be kept at ``now``, or None if it may be erased."""
    until, code = retained_until(proposal)
    if until is not None and (until <= now and proposal.call.state in CLOSED_CALL_STATES):
        return None
    return Blocker(code=code, reference=proposal.reference, call=str(proposal.call), until=until)


def with_retention_data(queryset: QuerySet) -> QuerySet:
    """What ``retained_until`` reads, in the same query."""
    return queryset.select_related("call", "award", "decision")


def past_retention(call: Call, *, now: dt.datetime) -> QuerySet:
    """The proposals of ``call`` whose retention period has passed at ``now`` and that are not anonymised
    yet: the queryset form of ``retention_blocker(...) is None``."""
    proposals = Proposal.objects.filter(call=call, anonymisation__isnull=True)
    if call.state not in CLOSED_CALL_STATES:
        return proposals.none()
    limit = years_before(now, call.retention_years)
    if call_deadline(call) > limit:
        return proposals.none()
    unfunded = Q(state__in=ENDED_UNFUNDED) & (Q(decision__isnull=True) | Q(decision__decided_at__lte=limit))
    funded = Q(state=ProposalState.FUNDED, award__state=AwardState.CLOSED, award__closed_at__lte=limit)
    return proposals.filter(unfunded | funded)
