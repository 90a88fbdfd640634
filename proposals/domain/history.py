"""The proposal's history for its applicants (#21): who changed what, in words, from the audit trail."""

from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import FieldDoesNotExist
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from iea.audit.actions import acting_as_label, action_label
from iea.audit.domain import audit_trail

from ..models import Proposal

HISTORY_LENGTH = 30


@dataclass(frozen=True)
class HistoryLine:
    at: datetime
    who: str
    what: str
    detail: str


def _field_label(name: str) -> str:
    if name == "budget":
        return _("budget")
    try:
        return str(Proposal._meta.get_field(name).verbose_name)
    except FieldDoesNotExist:  # a field renamed since the entry was written: its code, as recorded
        return name


def _detail(entry) -> str:
    data = entry.data or {}
    if entry.action == "proposal.save":
        return ", ".join(_field_label(name) for name in data.get("fields", []))
    if entry.action in ("proposal.team_add", "proposal.team_remove"):
        return data.get("name", "")
    if entry.action.startswith("proposal.coapplicant_") or entry.action == "proposal.invite_partner":
        return data.get("email", "")
    if entry.action == "proposal.letter_upload":
        return data.get("name", "")
    return ""


def proposal_history(proposal: Proposal, *, limit: int = HISTORY_LENGTH) -> list[HistoryLine]:
    """The latest ``limit`` entries of the proposal's audit trail, newest first: when, who (a person's name,
    or the partner's link), what, and the fields, team member or address it concerned. One query."""
    lines = []
    for entry in audit_trail(proposal).order_by("-created_at", "-id")[:limit]:
        who = entry.actor.get_full_name() if entry.actor is not None else acting_as_label(entry.actor_label)
        lines.append(HistoryLine(at=entry.created_at, who=who or entry.actor_label,
                                 what=capfirst(action_label(entry.action)), detail=_detail(entry)))
    return lines
