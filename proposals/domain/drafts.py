"""Creating a proposal and saving the PI's draft (two tabs never overwrite each other), and the team."""

import datetime as dt
import secrets
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import prefetch_related_objects
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from calls.domain import call_accepts_submissions
from calls.models import Call
from iea.audit.domain import audit_record
from iea.autosave import SaveResult, is_stale, stamp_saved

from ..models import (
    ACTIVE_STATES,
    BudgetCategory,
    BudgetLine,
    Proposal,
    ProposalState,
    TeamMember,
)
from .common import ProposalError, _lock, _now_editable, _require_pi, _touch
from .partner import partner_links_revoke

DRAFT_FIELDS = [
    "title", "acronym", "abstract", "keywords", "unit", "evaluating_institute", "partner_name", "partner_email",
    "partner_institution", "partner_country", "activities", "ethics_statement",
]
def _new_reference(call: Call) -> str:
    return f"IEA{call.year % 100:02d}-{secrets.token_hex(4).upper()}"


def active_proposal_count(*, call: Call, pi) -> int:
    return Proposal.objects.filter(call=call, pi=pi, state__in=ACTIVE_STATES).count()


def proposal_create(*, call_id: int, pi, now: dt.datetime) -> Proposal:
    """Start a draft in an open call. A PI may hold at most ``max_active_proposals_per_pi`` active
    proposals in a call (domain.md, default 1); the call row is locked so two tabs cannot both pass."""
    with transaction.atomic():
        call = Call.objects.select_for_update().get(pk=call_id)
        if not call_accepts_submissions(call, now=now):
            raise ProposalError(_("This call does not accept proposals at the moment."), code="closed")
        if active_proposal_count(call=call, pi=pi) >= call.max_active_proposals_per_pi:
            raise ProposalError(
                ngettext(
                    "You already have %(count)s active proposal in this call, the most it allows.",
                    "You already have %(count)s active proposals in this call, the most it allows.",
                    call.max_active_proposals_per_pi,
                )
                % {"count": call.max_active_proposals_per_pi},
                code="limit",
            )
        for attempt in range(5):
            try:
                with transaction.atomic():
                    proposal = Proposal.objects.create(
                        call=call, pi=pi, reference=_new_reference(call), created_at=now, updated_at=now,
                    )
                break
            except IntegrityError:
                # 32 random bits: a clash is rare at 5,000 proposals a call, and a new draw fixes it.
                if attempt == 4:
                    raise
        BudgetLine.objects.bulk_create(
            BudgetLine(proposal=proposal, year=year, category=category)
            for year in range(1, call.budget_years + 1)
            for category in BudgetCategory.values
        )
        audit_record(actor=pi, target=proposal, action="proposal.create", now=now, to_state=proposal.state)
    return proposal


def proposal_save_draft(
    *, proposal_id: int, user, data: dict, budget: dict[tuple[int, str], Decimal], lock_version: int,
    now: dt.datetime,
) -> SaveResult[Proposal]:
    """Save the PI's form. ``lock_version`` is the version the form was loaded with: if another tab
    saved since, nothing is written and the caller is told which fields differ, so the user's text
    stays in their form and nothing is silently overwritten.

    A new partner e-mail (not a change of case) revokes the links sent to anyone else, in this
    transaction (``partner_links_revoke``): every path that changes the partner passes here."""
    with transaction.atomic():
        proposal = _lock(proposal_id)
        # Read once, compared and updated in place: the record returned carries its budget as stored.
        prefetch_related_objects([proposal], "budget_lines")
        _require_pi(proposal, user)
        _now_editable(proposal, now=now)
        if is_stale(proposal, lock_version=lock_version):
            differing = [name for name, value in data.items() if _field_value(proposal, name) != _plain(value)]
            stored = {(line.year, line.category): line.amount for line in proposal.budget_lines.all()}
            if any(stored.get(key) != value for key, value in budget.items()):
                differing.append("budget")
            return SaveResult.conflict(proposal, conflicting_fields=differing)
        changed = [name for name, value in data.items() if _field_value(proposal, name) != _plain(value)]
        partner_changed = "partner_email" in changed and (proposal.partner_email or "").lower() != (data["partner_email"] or "").lower()
        for name in changed:
            setattr(proposal, name, data[name])
        budget_changed = _save_budget(proposal, budget)
        if not changed and not budget_changed:
            return SaveResult(saved=True, record=proposal)
        fields = [*changed, *stamp_saved(proposal, now=now)]
        if proposal.state == ProposalState.SUBMITTED:
            proposal.has_unsubmitted_changes = True
            fields.append("has_unsubmitted_changes")
        proposal.save(update_fields=fields)
        if partner_changed:
            partner_links_revoke(proposal=proposal, email=proposal.partner_email, user=user, now=now)
    return SaveResult(saved=True, record=proposal)


def _plain(value):
    return getattr(value, "pk", value) if value is not None else None


def _field_value(proposal: Proposal, name: str):
    model_field = Proposal._meta.get_field(name)
    if model_field.is_relation:
        return getattr(proposal, model_field.attname)
    value = getattr(proposal, name)
    return str(value) if name == "partner_country" else value


def _save_budget(proposal: Proposal, budget: dict[tuple[int, str], Decimal]) -> bool:
    lines = {(line.year, line.category): line for line in proposal.budget_lines.all()}
    dirty = []
    for key, amount in budget.items():
        line = lines.get(key)
        if line is not None and line.amount != amount:
            line.amount = amount
            dirty.append(line)
    if dirty:
        BudgetLine.objects.bulk_update(dirty, ["amount"])
    return bool(dirty)


def team_member_add(*, proposal_id: int, user, now: dt.datetime, **fields) -> TeamMember:
    with transaction.atomic():
        proposal = _lock(proposal_id)
        _require_pi(proposal, user)
        _now_editable(proposal, now=now)
        member = TeamMember.objects.create(proposal=proposal, **fields)
        _touch(proposal, now=now)
    return member


def team_member_remove(*, proposal_id: int, member_id: int, user, now: dt.datetime) -> None:
    with transaction.atomic():
        proposal = _lock(proposal_id)
        _require_pi(proposal, user)
        _now_editable(proposal, now=now)
        deleted, _detail = TeamMember.objects.filter(proposal=proposal, pk=member_id).delete()
        if deleted:
            _touch(proposal, now=now)
