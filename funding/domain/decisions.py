"""The directorate's final decisions across institutes, within the call's budget, and their announcement.

Officers recommend (rank, fund / reserve / reject, amount); directorate staff decide (domain.md,
"Actors"). A decision can be changed until its mail has gone out; after that it stands. Announcing the
decisions mails them, with the evaluation summary (``reviews.domain.evaluation``), and creates the award
of each selected proposal: the envelope, the amounts and the awards are money, so the decisions live in
funding. The ``Decision`` rows stay in reviews (``reviews.models``), read here and written only here.
"""

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, Sum
from django.utils.translation import gettext as _

from calls.models import Call, Institute
from iea import formats
from iea.audit.domain import audit_record
from iea.roles import is_directorate
from proposals.models import Proposal, ProposalState
from reviews.domain.assignment import assignments_close
from reviews.domain.evaluation import with_scores
from reviews.domain.outcome import outcome_notify_reviewers
from reviews.domain.readiness import Readiness, ThresholdMiss, proposal_readiness
from reviews.models import (
    DECIDED_STATES,
    OUTCOME_STATES,
    Decision,
    DecisionOutcome,
    PanelRecommendation,
    Recommendation,
)
from reviews.rules import panel_of

from ..models import AwardState
from .acceptance import counts_against_envelope
from .awards import award_create
from .mail import notify_decision

RECOMMENDED_OUTCOMES = {
    Recommendation.FUND: DecisionOutcome.SELECTED,
    Recommendation.RESERVE: DecisionOutcome.RESERVE,
    Recommendation.REJECT: DecisionOutcome.REJECTED,
}
# A proposal may be decided once it is in review (the panel may not have ranked every proposal).
DECIDABLE_STATES = [ProposalState.IN_REVIEW, ProposalState.RANKED, *DECIDED_STATES]


def _require_staff(user) -> None:
    if user is None or not is_directorate(user):
        raise ValidationError(_("Only directorate staff can take decisions."), code="forbidden")


def decision_set(
    *, proposal_id: int, user, outcome: str, amount: Decimal | None, now: dt.datetime, override_reason: str = ""
) -> Decision:
    """Decide on a proposal: selected (with an amount within the call's bounds, €10,000–14,000 by
    default, seed), on the reserve list, or rejected.

    A decision rests on the evaluation: the panel's number of counted reviews (domain.md: "at least N
    non-conflicted completed reviews") and the panel's recommendation; a selection also needs the
    criterion and overall thresholds met. Without them staff must give a reason, kept on the decision
    and in the audit entry.

    A decision may be changed until its mail is sent, never after. The total of the selected amounts
    must stay within the call's envelope when it has one: the call row is locked, so two staff members
    selecting at once cannot overrun it together.
    """
    _require_staff(user)
    if outcome not in DecisionOutcome.values:
        raise ValidationError(_("Choose an outcome."), code="outcome")
    with transaction.atomic():
        # The call first, then the proposal: the same order for every decision, so two never deadlock.
        call = Call.objects.select_for_update().get(pk=Proposal.objects.values_list("call_id", flat=True).get(pk=proposal_id))
        return _decide(call=call, proposal_id=proposal_id, user=user, outcome=outcome, amount=amount, now=now,
                       override_reason=override_reason, check_envelope=True)


@dataclass(frozen=True)
class DecisionItem:
    """One decision of a batch: the proposal, the outcome and the amount (None for a rejection)."""

    proposal_id: int
    outcome: str
    amount: Decimal | None


def decisions_set_many(*, call_id: int, items: list[DecisionItem], user, now: dt.datetime,
                       override_reason: str = "") -> list[Decision]:
    """Take several decisions of one call at once (the decisions page's "apply the panel's recommendation"):
    each goes through the checks of ``decision_set`` (``_decide``), the one ``override_reason`` standing for
    those that lack something. All or nothing: one refusal and none is taken. The call row is locked for the
    whole batch, and the envelope is checked once, on the total the batch leaves (a selection that is
    followed by a rejection freeing money is judged on the end result, as one decision would be)."""
    _require_staff(user)
    for item in items:
        if item.outcome not in DecisionOutcome.values:
            raise ValidationError(_("Choose an outcome."), code="outcome")
    with transaction.atomic():
        call = Call.objects.select_for_update().get(pk=call_id)
        foreign = {item.proposal_id for item in items} - set(
            Proposal.objects.filter(call=call, pk__in=[item.proposal_id for item in items]).values_list("pk", flat=True))
        if foreign:
            raise ValidationError(_("A proposal of another call was chosen; nothing was changed."), code="call")
        # Proposals locked in one order (their pk), the same for every batch, so two batches never deadlock.
        decisions = [
            _decide(call=call, proposal_id=item.proposal_id, user=user, outcome=item.outcome, amount=item.amount,
                    now=now, override_reason=override_reason, check_envelope=False)
            for item in sorted(items, key=lambda item: item.proposal_id)
        ]
        _check_envelope(call)
    return decisions


def _decide(*, call: Call, proposal_id: int, user, outcome: str, amount: Decimal | None, now: dt.datetime,
            override_reason: str, check_envelope: bool) -> Decision:
    """One decision, the call row already locked by the caller: the rules of ``decision_set``."""
    override_reason = (override_reason or "").strip()
    proposal = Proposal.objects.select_for_update(of=("self",)).get(pk=proposal_id)
    decision = Decision.objects.select_for_update().filter(proposal=proposal).first()
    refusal = _refused(proposal, decision)
    if refusal is not None:
        raise refusal
    gaps = proposal_readiness(proposal, panel=panel_of(proposal)).gaps(selecting=outcome == DecisionOutcome.SELECTED)
    if gaps and not override_reason:
        raise ValidationError(
            _("%(ref)s: %(gaps)s; give a reason to decide anyway.")
            % {"ref": proposal.reference, "gaps": "; ".join(gaps)},
            code="incomplete",
        )
    if not gaps:
        override_reason = ""  # nothing was overridden: no reason to keep
    _check_amount(call=call, proposal=proposal, outcome=outcome, amount=amount, check_envelope=check_envelope)
    before = proposal.state
    previous = {"outcome": decision.outcome, "amount": _str(decision.amount)} if decision else None
    if decision is None:
        decision = Decision.objects.create(
            proposal=proposal, outcome=outcome, amount=amount, decided_at=now, decided_by=user,
            override_reason=override_reason,
        )
    else:
        decision.outcome, decision.amount, decision.decided_at, decision.decided_by = outcome, amount, now, user
        decision.override_reason = override_reason
        decision.save(update_fields=["outcome", "amount", "decided_at", "decided_by", "override_reason"])
    proposal.state = OUTCOME_STATES[outcome]
    proposal.save(update_fields=["state"])
    data = {"outcome": outcome, "amount": _str(amount), "previous": previous}
    if override_reason:
        data.update(override_reason=override_reason, overridden=gaps)
    audit_record(
        actor=user, target=proposal, action="proposal.decide", now=now, from_state=before, to_state=proposal.state,
        data=data,
    )
    return decision


def decision_refusal(*, call: Call, proposal: Proposal, decision: Decision | None, outcome: str,
                     amount: Decimal | None) -> str:
    """Why this decision cannot be taken ('' if it can), the envelope aside: its mail is out, the proposal is
    not in review, or the amount is missing or outside the call's bounds. The decisions page's preview asks
    the same questions as ``_decide``, without writing."""
    error = _refused(proposal, decision)
    if error is None:
        try:
            _check_amount(call=call, proposal=proposal, outcome=outcome, amount=amount, check_envelope=False)
        except ValidationError as refused:
            error = refused
    return error.messages[0] if error else ""


def _refused(proposal: Proposal, decision: Decision | None) -> ValidationError | None:
    if decision is not None and decision.notified_at is not None:
        return ValidationError(
            _("The decision on %(ref)s was mailed on %(when)s (Paris time); it can no longer be changed.")
            % {"ref": proposal.reference, "when": formats.datetime(decision.notified_at, zone=False)},
            code="notified",
        )
    if proposal.state not in DECIDABLE_STATES:
        return ValidationError(
            _("Proposal %(ref)s is %(state)s; only proposals in review or ranked can be decided.")
            % {"ref": proposal.reference, "state": proposal.get_state_display().lower()},
            code="state",
        )
    return None


def decision_clear(*, proposal_id: int, user, now: dt.datetime) -> ProposalState:
    """Take back a decision whose mail has not gone out: the decision is deleted and the proposal returns
    to where the panel left it — ranked if the panel recommended it, else in review. Once mailed, a
    decision stands (the PI has been told). Locks as ``decision_set`` does (the call, then the proposal),
    so a clear and a decision, or two clears, run one after the other; the second clear finds nothing.
    Returns the proposal's state."""
    _require_staff(user)
    with transaction.atomic():
        call_id = Proposal.objects.values_list("call_id", flat=True).get(pk=proposal_id)
        Call.objects.select_for_update().get(pk=call_id)
        proposal = Proposal.objects.select_for_update(of=("self",)).get(pk=proposal_id)
        decision = Decision.objects.select_for_update().filter(proposal=proposal).first()
        if decision is None:
            raise ValidationError(_("%(ref)s has no decision to clear.") % {"ref": proposal.reference},
                                  code="no_decision")
        if decision.notified_at is not None:
            raise ValidationError(
                _("The decision on %(ref)s was mailed on %(when)s (Paris time); it can no longer be changed.")
                % {"ref": proposal.reference, "when": formats.datetime(decision.notified_at, zone=False)},
                code="notified",
            )
        recommended = PanelRecommendation.objects.filter(proposal=proposal).exclude(recommendation="").exists()
        before = proposal.state
        previous = {"outcome": decision.outcome, "amount": _str(decision.amount),
                    "override_reason": decision.override_reason}
        decision.delete()
        proposal.state = ProposalState.RANKED if recommended else ProposalState.IN_REVIEW
        proposal.save(update_fields=["state"])
        audit_record(actor=user, target=proposal, action="proposal.decision_clear", now=now, from_state=before,
                     to_state=proposal.state, data={"previous": previous})
    return proposal.state


def _str(amount: Decimal | None) -> str | None:
    return None if amount is None else f"{amount:.2f}"


def _check_amount(*, call: Call, proposal: Proposal, outcome: str, amount: Decimal | None,
                  check_envelope: bool = True) -> None:
    if outcome == DecisionOutcome.REJECTED:
        if amount is not None:
            raise ValidationError(_("A rejected proposal has no amount; leave it empty."), code="amount")
        return
    if amount is None:
        if outcome == DecisionOutcome.SELECTED:
            raise ValidationError(_("A selected proposal needs the amount awarded."), code="amount")
        return
    if amount <= 0 or not call.budget_min <= amount <= call.budget_max:
        raise ValidationError(
            _("The amount must be between %(min)s and %(max)s (the call's bounds).")
            % {"min": formats.money(call.budget_min), "max": formats.money(call.budget_max)},
            code="amount",
        )
    if outcome == DecisionOutcome.SELECTED and check_envelope and call.total_envelope is not None:
        others = Decision.objects.filter(
            counts_against_envelope("proposal__"), proposal__call=call, outcome=DecisionOutcome.SELECTED
        ).exclude(proposal=proposal).aggregate(total=Sum("amount"))["total"] or Decimal(0)
        if others + amount > call.total_envelope:
            raise ValidationError(
                _("Selecting %(ref)s for %(amount)s would bring the total to %(total)s, over the call's "
                  "envelope of %(envelope)s (%(left)s remain).")
                % {"ref": proposal.reference, "amount": formats.money(amount), "total": formats.money(others + amount),
                   "envelope": formats.money(call.total_envelope), "left": formats.money(call.total_envelope - others)},
                code="envelope",
            )


def selected_total(call: Call) -> Decimal:
    """The amounts selected in the call that count against its envelope (a cancelled award's do not)."""
    return Decision.objects.filter(
        counts_against_envelope("proposal__"), proposal__call=call, outcome=DecisionOutcome.SELECTED
    ).aggregate(total=Sum("amount"))["total"] or Decimal(0)


def _check_envelope(call: Call) -> None:
    """The selected total of the call, as it stands, within its envelope (the call row locked by the caller)."""
    if call.total_envelope is None:
        return
    total = selected_total(call)
    if total > call.total_envelope:
        raise ValidationError(
            _("These decisions would bring the selected total to %(total)s, over the call's envelope of "
              "%(envelope)s; nothing was changed.")
            % {"total": formats.money(total), "envelope": formats.money(call.total_envelope)},
            code="envelope",
        )


# --- The decisions page ------------------------------------------------------------------------------------


@dataclass
class DecisionRow:
    proposal: Proposal
    recommendation: PanelRecommendation | None
    decision: Decision | None
    mean_score: Decimal | None
    review_count: int
    # What the decision still lacks (reviews, recommendation, thresholds), when the page worked it out.
    readiness: Readiness | None = None

    @property
    def threshold_misses(self) -> tuple[ThresholdMiss, ...]:
        return self.readiness.misses if self.readiness else ()

    @property
    def gaps(self) -> list[str]:
        """What is missing for any decision (reviews, the recommendation), in words."""
        return self.readiness.gaps(selecting=False) if self.readiness else []

    @property
    def needs_reason(self) -> bool:
        """Some decision here needs a reason: something is missing, or selecting would pass a threshold."""
        return bool(self.readiness and self.readiness.gaps(selecting=True))

    @property
    def suggested_outcome(self) -> str:
        """What the decision form starts from: the decision taken, else the panel's recommendation."""
        if self.decision is not None:
            return self.decision.outcome
        if self.recommendation is not None:
            return RECOMMENDED_OUTCOMES.get(self.recommendation.recommendation, "")
        return ""

    @property
    def suggested_amount(self) -> Decimal | None:
        if self.decision is not None:
            return self.decision.amount
        if self.recommendation is not None and self.suggested_outcome != DecisionOutcome.REJECTED:
            return self.recommendation.proposed_amount
        return None


@dataclass
class InstituteGroup:
    institute: Institute | None
    rows: list[DecisionRow] = field(default_factory=list)

    @property
    def selected_total(self) -> Decimal:
        return _selected_total(self.rows)


@dataclass
class DecisionsOverview:
    call: Call
    groups: list[InstituteGroup]

    @property
    def rows(self) -> list[DecisionRow]:
        return [row for group in self.groups for row in group.rows]

    @property
    def envelope(self) -> Decimal | None:
        return self.call.total_envelope

    @property
    def selected_total(self) -> Decimal:
        return _selected_total(self.rows)

    @property
    def remaining(self) -> Decimal | None:
        return None if self.envelope is None else self.envelope - self.selected_total

    @property
    def selected_count(self) -> int:
        return sum(1 for row in self.rows if row.decision and row.decision.outcome == DecisionOutcome.SELECTED)

    @property
    def undecided_count(self) -> int:
        return sum(1 for row in self.rows if row.decision is None)

    @property
    def unnotified_count(self) -> int:
        return sum(1 for row in self.rows if row.decision and row.decision.notified_at is None)


def selected_sum(rows: list[DecisionRow]) -> Decimal:
    """What these rows' decisions count against the envelope now (the batch preview's "before")."""
    return _selected_total(rows)


def _selected_total(rows: list[DecisionRow]) -> Decimal:
    """The selected amounts, but for a cancelled award's: that money went back to the envelope."""
    return sum(
        (row.decision.amount for row in rows if row.decision and row.decision.outcome == DecisionOutcome.SELECTED
         and getattr(getattr(row.proposal, "award", None), "state", None) != AwardState.CANCELLED),
        Decimal(0),
    )


def decision_row(proposal: Proposal) -> DecisionRow:
    """The row of a proposal read through ``with_scores``."""
    return DecisionRow(
        proposal=proposal,
        recommendation=getattr(proposal, "panel_recommendation", None),
        decision=getattr(proposal, "decision", None),
        mean_score=proposal.mean_score,
        review_count=proposal.review_count or 0,
    )


def decisions_overview(*, call: Call) -> DecisionsOverview:
    """Every proposal of the call in review or recommended by its panel, grouped by evaluating institute
    and ordered by the panel's rank, with the recommendation, the mean score of the counted reviews and
    the decision. A constant number of queries, whatever the number of proposals. (The staff's page shows
    it one page at a time: ``funding.selectors.decisions_page``.)"""
    proposals = with_scores(
        Proposal.objects.filter(call=call)
        .filter(Q(state__in=[*DECIDABLE_STATES, ProposalState.FUNDED]) | Q(panel_recommendation__isnull=False))
    ).order_by("reference")
    groups: dict[int | None, InstituteGroup] = {}
    for proposal in proposals:
        institute = proposal.institute
        group = groups.setdefault(institute.pk if institute else None, InstituteGroup(institute=institute))
        group.rows.append(decision_row(proposal))
    for group in groups.values():
        group.rows.sort(key=lambda row: (
            row.recommendation is None or row.recommendation.rank is None,
            row.recommendation.rank if row.recommendation and row.recommendation.rank is not None else 0,
            row.proposal.reference,
        ))
    ordered = sorted(groups.values(), key=lambda g: (g.institute is None, g.institute.code if g.institute else ""))
    return DecisionsOverview(call=call, groups=ordered)


# --- The announcement: the decision mails ----------------------------------------------------------------


def decisions_pending(*, call_id: int) -> list[Decision]:
    """The decisions of the call whose mail has not gone out, as the confirmation lists them: by
    evaluating institute, then reference, with the proposal and its PI (one query)."""
    return list(
        Decision.objects.filter(proposal__call_id=call_id, notified_at__isnull=True)
        .select_related("proposal__pi", "proposal__evaluating_institute", "proposal__unit__main_institute")
        .order_by("proposal__reference")
    )


def decisions_announce(*, call_id: int, user, now: dt.datetime) -> int:
    """Announce the decisions of the call not yet told: queue the decision mail of each, mark it sent, and
    create the award of each selected proposal. When the call tells reviewers the outcome, each reviewer who
    submitted a review of these proposals gets one digest (``reviews.domain.outcome``).

    The decisions are locked and marked in one transaction, so two clicks (or two staff members) never
    send a mail twice: the second finds nothing left. The assignments of those proposals still waiting
    for a review (invited or accepted, nothing submitted) are closed: the reviewer is no longer asked.
    Returns how many decisions were mailed.
    """
    _require_staff(user)
    with transaction.atomic():
        decisions = list(
            Decision.objects.select_for_update(of=("self",)).select_related("proposal")
            .filter(proposal__call_id=call_id, notified_at__isnull=True).order_by("pk")
        )
        for decision in decisions:
            decision.notified_at = now
            decision.save(update_fields=["notified_at"])
            audit_record(
                actor=user, target=decision.proposal, action="proposal.decision_mail", now=now,
                data={"outcome": decision.outcome, "amount": _str(decision.amount)},
            )
            if decision.outcome == DecisionOutcome.SELECTED:
                # Announced, the decision is final: the award exists from now on (funding.domain.awards).
                award_create(decision=decision, user=user, now=now)
            notify_decision(decision, now=now)
        assignments_close(proposal_ids=[decision.proposal_id for decision in decisions], user=user, now=now)
        # After the decision mails, in the same transaction: the reviewers' digest when the call says so.
        outcome_notify_reviewers(decision_ids=[decision.pk for decision in decisions], user=user, now=now)
    return len(decisions)
