"""Restart from last year (#21): a PI whose proposal was not funded starts a new draft from it in a later call.

Which proposals qualify is one rule (``restart_refusal``; ``restart_sources`` is its queryset form for a
page): the PI's own proposal of an earlier call, whose call no longer takes it, and whose outcome as the PI
was told it (``Proposal.applicant_state``: a ranking or decision counts only once its mail went out) is not
funded — rejected, left on the reserve list, found ineligible at screening — or that never went to review:
withdrawn, or a draft never submitted. Those two have no evaluation; the editor simply shows none. A proposal
selected or funded never qualifies, nor one still in screening or review, nor one whose decision is not
announced yet.

``proposal_restart`` copies the content (``COPIED_FIELDS``, the team with ORCID iDs, the budget on the new
call's years) into a draft made by the same checks as ``proposal_create`` (``draft_start``: the call locked and
open, the PI's limit of active proposals). It never copies the support letter (the partner signs one for
this call), the partner's invitations, the submitted versions or the co-applicants.
"""

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from calls.domain import call_accepts_submissions
from calls.models import Call
from iea import formats
from iea.audit.domain import audit_record

from ..models import Proposal, ProposalState, TeamMember, announced_state_is
from ..rules import is_proposal_pi
from .common import ProposalError
from .drafts import draft_start

# What the new draft takes over as it is. The unit and the evaluating institute are copied too, the institute
# only while the unit may still be evaluated by it (``_institute_still_valid``).
COPIED_FIELDS = [
    "title", "acronym", "abstract", "keywords", "partner_name", "partner_email", "partner_institution",
    "partner_country", "activities", "ethics_statement",
]
TEAM_FIELDS = ["side", "name", "email", "position", "institution", "orcid", "early_career"]

# The outcomes, as told to the PI, from which a new draft may start: not funded, or never evaluated.
RESTARTABLE_STATES = [
    ProposalState.REJECTED, ProposalState.RESERVE, ProposalState.INELIGIBLE, ProposalState.WITHDRAWN,
    ProposalState.DRAFT,
]


@dataclass
class RestartResult:
    proposal: Proposal
    # What could not be taken over, in words for the PI (budget years the new call does not have…).
    dropped: list[str] = field(default_factory=list)
    # What was taken over but must be looked at (a total outside the new call's bounds…).
    notes: list[str] = field(default_factory=list)


def restart_refusal(source: Proposal, *, call: Call, user, now: dt.datetime) -> str:
    """Why ``user`` may not start a draft in ``call`` from ``source`` ("" when they may). Reads ``source``'s
    call and decision (``select_related("call", "decision")``) and nothing else: a list asks it per row.
    Whether ``call`` is open and the PI under its limit is ``draft_start``'s to say."""
    return _refusal(source, call=call, user=user, now=now)[0]


def _refusal(source: Proposal, *, call: Call, user, now: dt.datetime) -> tuple[str, str]:
    if user is None or not is_proposal_pi(user, source):
        return _("Only the PI of a proposal can start a new proposal from it."), "forbidden"
    if source.call.year >= call.year or call_accepts_submissions(source.call, now=now):
        return (_("A new proposal starts from a proposal of an earlier call, once that call has closed."),
                "not_earlier")
    state = source.applicant_state
    if state in (ProposalState.SELECTED, ProposalState.FUNDED):
        return _("This proposal was selected for funding: it cannot be the start of a new proposal."), "funded"
    if state not in RESTARTABLE_STATES:
        return (_("The outcome of this proposal has not been announced yet: wait for the decision before "
                  "starting a new proposal from it."), "undecided")
    return "", ""


def restart_sources(*, user, call: Call, now: dt.datetime) -> list[Proposal]:
    """The PI's proposals from which a draft may start in ``call`` (``restart_refusal``), newest call first.
    One query."""
    if not user.is_authenticated:
        return []
    told = announced_state_is(ProposalState.REJECTED) | announced_state_is(ProposalState.RESERVE)
    never_evaluated = Q(state__in=[ProposalState.INELIGIBLE, ProposalState.WITHDRAWN, ProposalState.DRAFT])
    candidates = (
        Proposal.objects.filter(pi=user, call__year__lt=call.year).filter(told | never_evaluated)
        .select_related("call", "decision").defer("abstract", "activities", "ethics_statement")
        .order_by("-call__year", "-updated_at", "-pk")
    )
    return [source for source in candidates if not restart_refusal(source, call=call, user=user, now=now)]


def proposal_restart(*, source_id: int, call_id: int, user, now: dt.datetime) -> RestartResult:
    """Start a draft in ``call_id`` from the PI's unfunded proposal ``source_id`` of an earlier call (#21).

    The same checks as ``proposal_create`` (the call locked and open, the PI's limit of active proposals), then
    the content copied; the budget goes onto the new call's years (a year it does not have is dropped and
    said). ``Proposal.restarted_from`` records the source; the audit entry ``proposal.restart`` on the new
    proposal names it."""
    with transaction.atomic():
        source = (
            Proposal.objects.select_related("call", "decision", "unit")
            .prefetch_related("team", "budget_lines", "unit__secondary_institutes").filter(pk=source_id).first()
        )
        call = Call.objects.get(pk=call_id)
        if source is None:
            raise ProposalError(_("Only the PI of a proposal can start a new proposal from it."), code="forbidden")
        refusal, code = _refusal(source, call=call, user=user, now=now)
        if refusal:
            raise ProposalError(refusal, code=code)
        dropped: list[str] = []
        notes: list[str] = []
        fields = {name: getattr(source, name) for name in COPIED_FIELDS}
        fields["unit"] = source.unit
        fields["evaluating_institute_id"] = source.evaluating_institute_id
        if source.evaluating_institute_id and not _institute_still_valid(source):
            fields["evaluating_institute_id"] = None
            dropped.append(_("The evaluating institute: your unit is no longer evaluated by it; the unit's main "
                             "institute will evaluate the proposal unless you choose another."))
        budget, budget_dropped = _budget_on(source, call=call)
        dropped += budget_dropped
        proposal = draft_start(call_id=call.pk, pi=user, now=now, fields={**fields, "restarted_from": source},
                               budget=budget)
        TeamMember.objects.bulk_create(
            TeamMember(proposal=proposal, **{name: getattr(member, name) for name in TEAM_FIELDS})
            for member in source.team.all()
        )
        total = sum(budget.values(), Decimal(0))
        if not call.budget_min <= total <= call.budget_max:
            notes.append(
                _("The budget copied totals %(total)s; this call asks for a total between %(min)s and %(max)s.")
                % {"total": formats.money(total), "min": formats.money(call.budget_min),
                   "max": formats.money(call.budget_max)}
            )
        audit_record(
            actor=user, target=proposal, action="proposal.restart", now=now, to_state=proposal.state,
            data={"restarted_from": source.pk, "restarted_from_reference": source.reference,
                  "restarted_from_call": source.call.year, "dropped": dropped},
        )
    return RestartResult(proposal=proposal, dropped=dropped, notes=notes)


def _institute_still_valid(source: Proposal) -> bool:
    return source.unit is not None and source.unit.may_be_evaluated_by(source.evaluating_institute_id)


def _budget_on(source: Proposal, *, call: Call) -> tuple[dict[tuple[int, str], Decimal], list[str]]:
    """The source's budget on ``call``'s years: year N stays year N; a year beyond the new call's duration is
    dropped, and said with its amount."""
    kept: dict[tuple[int, str], Decimal] = {}
    beyond: dict[int, Decimal] = {}
    for line in source.budget_lines.all():
        if line.year <= call.budget_years:
            kept[(line.year, line.category)] = line.amount
        elif line.amount:
            beyond[line.year] = beyond.get(line.year, Decimal(0)) + line.amount
    dropped = [
        ngettext("The budget of year %(year)s (%(amount)s): this call lasts %(years)s year.",
                 "The budget of year %(year)s (%(amount)s): this call lasts %(years)s years.", call.budget_years)
        % {"year": year, "amount": formats.money(amount), "years": call.budget_years}
        for year, amount in sorted(beyond.items())
    ]
    return kept, dropped

