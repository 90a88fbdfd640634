"""The reserve list after the decision mails (domain.md, "After the decision": "the institute's next
proposal on the reserve list may then be selected within the call's envelope, with its own decision mail
and award").

Before the mails, staff simply change the decision (``decision_set``). Once a reserve's mail is out, its
decision stands, except for this one step: staff promote it to selected, with an amount within the
call's bounds and what remains of the envelope (the same check as ``decision_set``, the call row locked
first, so two promotions at once cannot overrun it together). The PI receives a mail of its own and the
award is created, awaiting the PI's acceptance like any other. When the call tells reviewers the outcome,
its reviewers get a digest of their own (``reviews.domain.outcome``).
"""

import datetime as dt
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from calls.models import Call
from iea.audit.domain import audit_record
from proposals.models import Proposal, ProposalState
from reviews.domain.outcome import outcome_notify_reviewers
from reviews.domain.readiness import proposal_threshold_misses
from reviews.models import Decision, DecisionOutcome

from .awards import award_create
from .decisions import _check_amount, _require_staff, _str
from .mail import notify_promoted


def reserve_promotable(decision: Decision | None) -> bool:
    """A reserve whose decision mail went out: the decisions page offers to promote it."""
    return decision is not None and decision.outcome == DecisionOutcome.RESERVE and decision.notified_at is not None


def reserve_promote(*, proposal_id: int, user, amount: Decimal | None, now: dt.datetime,
                    override_reason: str = "") -> Decision:
    """Select a proposal of the reserve list, once the decision mails are out, for ``amount`` within the
    call's bounds and envelope; mail its PI and create its award (awaiting acceptance). A proposal under a
    threshold is selected only with a reason, as in ``decision_set``; the reason is kept and audited."""
    _require_staff(user)
    override_reason = (override_reason or "").strip()
    if amount is None:
        raise ValidationError(_("Give the amount awarded."), code="amount")
    with transaction.atomic():
        # The call first, then the proposal: the order of decision_set, so the two never deadlock.
        call = Call.objects.select_for_update().get(pk=Proposal.objects.values_list("call_id", flat=True).get(pk=proposal_id))
        proposal = Proposal.objects.select_for_update(of=("self",)).get(pk=proposal_id)
        decision = Decision.objects.select_for_update().filter(proposal=proposal).first()
        if not reserve_promotable(decision):
            if decision is not None and decision.outcome == DecisionOutcome.SELECTED:
                raise ValidationError(_("%(ref)s is already selected.") % {"ref": proposal.reference}, code="state")
            raise ValidationError(
                _("Only a proposal on the reserve list whose decision mail was sent can be promoted; before the "
                  "mail, change its decision instead."), code="state")
        misses = [str(miss) for miss in proposal_threshold_misses(proposal)]
        if misses and not override_reason:
            raise ValidationError(
                _("%(ref)s: %(gaps)s; give a reason to decide anyway.")
                % {"ref": proposal.reference, "gaps": "; ".join(misses)},
                code="incomplete",
            )
        _check_amount(call=call, proposal=proposal, outcome=DecisionOutcome.SELECTED, amount=amount)
        decision.outcome, decision.amount, decision.decided_at, decision.decided_by = (
            DecisionOutcome.SELECTED, amount, now, user)
        decision.notified_at = now
        decision.override_reason = override_reason if misses else ""
        decision.save(update_fields=["outcome", "amount", "decided_at", "decided_by", "notified_at", "override_reason"])
        before = proposal.state
        proposal.state = ProposalState.SELECTED
        proposal.save(update_fields=["state"])
        audit_record(actor=user, target=proposal, action="proposal.promote", now=now, from_state=before,
                     to_state=proposal.state, data={"amount": _str(amount), **(
                         {"override_reason": override_reason, "overridden": misses} if misses else {})})
        award_create(decision=decision, user=user, now=now)
        notify_promoted(decision, now=now)
        # A new outcome, mailed: its reviewers learn it too when the call says so (a batch of its own).
        outcome_notify_reviewers(decision_ids=[decision.pk], user=user, now=now)
    return decision
