"""The institute officer's panel (domain.md, "Actors": institute officer): the consensus, recommendation and
ranking. The panel table that sums up the reviews is in ``reviews.domain.panel_table`` (its figures in
``panel_figures``), the reviewer pool in ``reviews.domain.pool``.

Writes check ``reviews.rules`` themselves, lock what two officers could change at once, and leave an
audit entry.
"""

import datetime as dt
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from iea import formats
from iea.audit.domain import audit_record
from proposals.models import Proposal, ProposalState

from ..models import Conflict, Panel, PanelRecommendation, Recommendation
from ..rules import can_manage_panel, can_recommend, panel_of, panel_proposals
from .readiness import proposal_threshold_misses

# The proposals a panel deals with: screened eligible, and everything that follows.
PANEL_STATES = [
    ProposalState.ELIGIBLE, ProposalState.IN_REVIEW, ProposalState.RANKED, ProposalState.SELECTED,
    ProposalState.RESERVE, ProposalState.REJECTED, ProposalState.FUNDED,
]
# The officer recommends while the review runs; once the directorate has decided, the panel's word is final.
RECOMMENDABLE_STATES = [ProposalState.IN_REVIEW, ProposalState.RANKED]


def _forbidden():
    return ValidationError(_("You do not run this panel."), code="forbidden")


# ---------------------------------------------------------------------------------------------------
# Consensus, recommendation and ranking
# ---------------------------------------------------------------------------------------------------

def _amount(value) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        return Decimal(str(value)).quantize(Decimal("0.01"))
    except InvalidOperation:
        raise ValidationError(_("Give the amount as a number of euros."), code="amount") from None


def recommendation_set(
    *, proposal_id: int, user, consensus: str, recommendation: str, proposed_amount, now: dt.datetime
) -> PanelRecommendation:
    """The officer's consensus summary, recommendation (fund / reserve / reject) and proposed amount.

    Only an officer of the proposal's panel who is not in conflict with it, or directorate staff.
    Funding needs an amount within the call's bounds (seed: €10,000–14,000); a rejected proposal gets
    none. Setting a recommendation moves the proposal from in review to ranked; clearing it moves it back.
    The consensus becomes the evaluation summary sent to the PI.
    """
    recommendation = recommendation or ""
    if recommendation and recommendation not in Recommendation.values:
        raise ValidationError(_("Choose fund, reserve or reject."), code="recommendation")
    amount = _amount(proposed_amount) if recommendation != Recommendation.REJECT else None
    with transaction.atomic():
        proposal = (
            Proposal.objects.select_for_update(of=("self",))
            .select_related("call", "unit__main_institute", "evaluating_institute").get(pk=proposal_id)
        )
        if not can_recommend(user, proposal):
            raise _forbidden()
        panel = panel_of(proposal)
        if panel is None:
            raise _forbidden()
        if proposal.state not in RECOMMENDABLE_STATES:
            raise ValidationError(
                _("A recommendation can be made only while the proposal is in review; it is %(state)s.")
                % {"state": proposal.get_state_display().lower()}, code="state",
            )
        call = proposal.call
        if recommendation == Recommendation.FUND and amount is None:
            raise ValidationError(_("Give the amount you propose to fund."), code="amount_required")
        if recommendation == Recommendation.FUND:
            misses = proposal_threshold_misses(proposal)
            if misses:
                raise ValidationError(
                    _("%(ref)s cannot be recommended for funding: %(misses)s. Recommend the reserve list or "
                      "rejection; the directorate may still select it, with a reason.")
                    % {"ref": proposal.reference, "misses": "; ".join(str(miss) for miss in misses)},
                    code="threshold",
                )
        if amount is not None and not call.budget_min <= amount <= call.budget_max:
            raise ValidationError(
                _("The amount must be between %(min)s and %(max)s.")
                % {"min": formats.money(call.budget_min), "max": formats.money(call.budget_max)},
                code="amount_bounds",
            )
        record, _created = PanelRecommendation.objects.get_or_create(
            proposal=proposal, defaults={"panel": panel, "updated_at": now, "updated_by": user}
        )
        before = {"recommendation": record.recommendation, "amount": str(record.proposed_amount or "")}
        record.panel = panel
        record.consensus = (consensus or "").strip()
        record.recommendation = recommendation
        record.proposed_amount = amount
        record.updated_at = now
        record.updated_by = user
        record.save(update_fields=["panel", "consensus", "recommendation", "proposed_amount", "updated_at", "updated_by"])
        from_state = proposal.state
        if recommendation and proposal.state == ProposalState.IN_REVIEW:
            proposal.state = ProposalState.RANKED
        elif not recommendation and proposal.state == ProposalState.RANKED:
            proposal.state = ProposalState.IN_REVIEW
        if proposal.state != from_state:
            proposal.save(update_fields=["state"])
        audit_record(
            actor=user, target=proposal, action="panel.recommend", now=now,
            from_state=from_state if proposal.state != from_state else "",
            to_state=proposal.state if proposal.state != from_state else "",
            data={"before": before, "recommendation": recommendation, "amount": str(amount or "")},
        )
    return record


def ranking_of_page(*, panel: Panel, user, typed: list[tuple[int, int]], page_ids: set[int]) -> list[int]:
    """The panel's whole order when the officer numbered the proposals of one page of the table.

    ``typed`` is (number, proposal id) for the boxes filled on the page, ``page_ids`` every proposal the
    page showed (an emptied box unranks its proposal). The ranked proposals of the other pages keep their
    rank as their number; a number typed on the page goes before an equal rank kept from another page.
    With the whole table on one page this is the order of the numbers typed, as before.
    """
    kept = (
        PanelRecommendation.objects.filter(panel=panel, rank__isnull=False)
        .filter(proposal__in=panel_proposals(panel, user).filter(state__in=PANEL_STATES))
        .exclude(proposal_id__in=page_ids).values_list("rank", "proposal_id")
    )
    entries = [(number, 0, pk) for number, pk in typed] + [(rank, 1, pk) for rank, pk in kept]
    return [pk for _number, _typed_first, pk in sorted(entries)]


def ranks_set(*, panel_id: int, user, ordered_proposal_ids, now: dt.datetime) -> dict[int, int]:
    """Rank the panel's proposals 1..n in the order given; those left out lose their rank.

    Ranks are unique in a panel (database constraint): they are cleared, then set, in one transaction
    under a lock on the panel, so two officers saving at once cannot interleave. Proposals the officer
    may not see (own conflicts) keep their rank; the others fill the remaining places.
    Returns {proposal id: rank}.
    """
    ordered = [int(pk) for pk in ordered_proposal_ids]
    if len(set(ordered)) != len(ordered):
        raise ValidationError(_("A proposal appears twice in the ranking."), code="duplicate")
    with transaction.atomic():
        panel = Panel.objects.select_for_update().get(pk=panel_id)
        if not can_manage_panel(user, panel):
            raise _forbidden()
        visible = set(panel_proposals(panel, user).filter(state__in=PANEL_STATES).values_list("pk", flat=True))
        if set(ordered) - visible:
            raise ValidationError(_("Only proposals of this panel can be ranked."), code="wrong_panel")
        scope = Q(panel=panel) | Q(proposal_id__in=ordered)
        records = {r.proposal_id: r for r in PanelRecommendation.objects.filter(scope)}
        hidden = set(Conflict.objects.filter(reviewer__user=user, proposal_id__in=list(records))
                     .values_list("proposal_id", flat=True)) if user.is_authenticated else set()
        kept = {r.rank for pid, r in records.items() if pid in hidden and r.rank is not None}
        PanelRecommendation.objects.filter(scope).exclude(proposal_id__in=hidden).exclude(rank=None).update(rank=None)
        places = (place for place in range(1, len(ordered) + len(kept) + 1) if place not in kept)
        ranks = dict(zip(ordered, places, strict=False))
        changed, created = [], []
        for proposal_id, rank in ranks.items():
            record = records.get(proposal_id)
            if record is None:
                created.append(PanelRecommendation(proposal_id=proposal_id, panel=panel, rank=rank, updated_at=now,
                                                   updated_by=user))
                continue
            record.panel, record.rank, record.updated_at, record.updated_by = panel, rank, now, user
            changed.append(record)
        PanelRecommendation.objects.bulk_update(changed, ["panel", "rank", "updated_at", "updated_by"], batch_size=500)
        PanelRecommendation.objects.bulk_create(created, batch_size=500)
        audit_record(actor=user, target=panel, action="panel.rank", now=now,
                     data={"ranks": {str(pid): rank for pid, rank in ranks.items()}})
    return ranks

