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
from iea.identifiers import orcid_normalise

from ..models import (
    ACTIVE_STATES,
    RFI_BUDGET,
    RFI_TEAM,
    BudgetCategory,
    BudgetLine,
    Proposal,
    ProposalState,
    TeamMember,
)
from .common import ProposalError, _lock, _now_editable, _require_applicant, _touch
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
        proposal = draft_start(call_id=call_id, pi=pi, now=now)
        audit_record(actor=pi, target=proposal, action="proposal.create", now=now, to_state=proposal.state)
    return proposal


def draft_start(
    *, call_id: int, pi, now: dt.datetime, fields: dict | None = None,
    budget: dict[tuple[int, str], Decimal] | None = None,
) -> Proposal:
    """The checks and the rows every new draft shares (``proposal_create``, ``proposal_restart``): the call
    locked, open, and the PI under its limit of active proposals; the proposal with ``fields`` and one budget
    line per year of the call and category (``budget``'s amount, else 0). Runs inside the caller's
    transaction, which writes the audit entry."""
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
                    **(fields or {}),
                )
            break
        except IntegrityError:
            # 32 random bits: a clash is rare at 5,000 proposals a call, and a new draw fixes it.
            if attempt == 4:
                raise
    budget = budget or {}
    BudgetLine.objects.bulk_create(
        BudgetLine(proposal=proposal, year=year, category=category, amount=budget.get((year, category), Decimal(0)))
        for year in range(1, call.budget_years + 1)
        for category in BudgetCategory.values
    )
    return proposal


def proposal_save_draft(
    *, proposal_id: int, user, data: dict, budget: dict[tuple[int, str], Decimal], lock_version: int,
    now: dt.datetime,
) -> SaveResult[Proposal]:
    """Save the draft's form, for the PI or a co-applicant (#21). ``lock_version`` is the version the form was
    loaded with: if another tab, or another applicant, saved since, nothing is written and the caller is told
    which fields differ (and ``record.last_saved_by`` who saved), so the user's text stays in their form and
    nothing is silently overwritten.

    Each save that changes something writes one audit entry naming the fields changed (``budget`` for the
    budget's lines): the proposal's history says who changed what. Autosave posts only after a pause in
    typing, and a save that changes nothing writes nothing, so a session of typing writes a few entries.

    A new partner e-mail (not a change of case) revokes the links sent to anyone else, in this
    transaction (``partner_links_revoke``): every path that changes the partner passes here."""
    with transaction.atomic():
        proposal = _lock(proposal_id)
        # Read once, compared and updated in place: the record returned carries its budget as stored.
        prefetch_related_objects([proposal], "budget_lines")
        _require_applicant(proposal, user)
        _now_editable(proposal, now=now, items=())
        if is_stale(proposal, lock_version=lock_version):
            differing = [name for name, value in data.items() if _field_value(proposal, name) != _plain(value)]
            stored = {(line.year, line.category): line.amount for line in proposal.budget_lines.all()}
            if any(stored.get(key) != value for key, value in budget.items()):
                differing.append("budget")
            return SaveResult.conflict(proposal, conflicting_fields=differing)
        changed = [name for name, value in data.items() if _field_value(proposal, name) != _plain(value)]
        partner_changed = "partner_email" in changed and (proposal.partner_email or "").lower() != (data["partner_email"] or "").lower()
        # After the deadline, under a request for information, only the items it names (the form posts the rest
        # as it was): checked before anything is written, so a refusal changes nothing.
        budget_changed = _budget_differs(proposal, budget)
        _now_editable(proposal, now=now, items=[*changed, *([RFI_BUDGET] if budget_changed else [])])
        for name in changed:
            setattr(proposal, name, data[name])
        _save_budget(proposal, budget)
        if not changed and not budget_changed:
            return SaveResult(saved=True, record=proposal)
        proposal.last_saved_by = user
        fields = [*changed, *stamp_saved(proposal, now=now), "last_saved_by"]
        if proposal.state == ProposalState.SUBMITTED:
            proposal.has_unsubmitted_changes = True
            fields.append("has_unsubmitted_changes")
        proposal.save(update_fields=fields)
        audit_record(actor=user, target=proposal, action="proposal.save", now=now,
                     data={"fields": [*changed, *(["budget"] if budget_changed else [])]})
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


def _budget_differs(proposal: Proposal, budget: dict[tuple[int, str], Decimal]) -> bool:
    lines = {(line.year, line.category): line.amount for line in proposal.budget_lines.all()}
    return any(key in lines and lines[key] != amount for key, amount in budget.items())


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
        _require_applicant(proposal, user)
        _now_editable(proposal, now=now, items=[RFI_TEAM])
        if fields.get("orcid"):  # the form checks it too; the domain takes no ORCID iD it cannot match on
            fields["orcid"] = orcid_normalise(fields["orcid"])
        member = TeamMember.objects.create(proposal=proposal, **fields)
        _touch(proposal, now=now)
        audit_record(actor=user, target=proposal, action="proposal.team_add", now=now,
                     data={"member": member.pk, "name": member.name})
    return member


def team_member_remove(*, proposal_id: int, member_id: int, user, now: dt.datetime) -> None:
    with transaction.atomic():
        proposal = _lock(proposal_id)
        _require_applicant(proposal, user)
        _now_editable(proposal, now=now, items=[RFI_TEAM])
        member = TeamMember.objects.filter(proposal=proposal, pk=member_id).first()
        if member is not None:
            name = member.name
            member.delete()
            _touch(proposal, now=now)
            audit_record(actor=user, target=proposal, action="proposal.team_remove", now=now,
                         data={"member": member_id, "name": name})
