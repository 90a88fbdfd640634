"""What every proposal rule shares: the error type, the row lock, the editable-window check, dates."""

import datetime as dt

from django.utils.translation import gettext as _

from calls.domain import call_accepts_submissions, call_deadline
from iea import formats
from iea.errors import DomainError

from ..models import (
    EDITABLE_STATES,
    Proposal,
    ProposalState,
)
from ..rules import is_proposal_pi


class ProposalError(DomainError):
    """A proposal rule refused the request."""


def _require_pi(proposal: Proposal, user, *, refusal: str = "") -> None:
    """Only the proposal's PI changes it (``proposals.rules.is_proposal_pi``, as the pages ask);
    ``refusal`` says what was refused when it is more than a change."""
    if user is None or not is_proposal_pi(user, proposal):
        raise ProposalError(refusal or _("Only the PI can change this proposal."), code="forbidden")


def _now_editable(proposal: Proposal, *, now: dt.datetime) -> None:
    if proposal.state not in EDITABLE_STATES:
        raise ProposalError(
            _("This proposal is %(state)s and can no longer be changed.")
            % {"state": proposal.get_state_display().lower()},
            code="not_editable",
        )
    if not call_accepts_submissions(proposal.call, now=now):
        raise ProposalError(
            _("The call closed on %(deadline)s (Paris time); the proposal can no longer be changed.")
            % {"deadline": formats.datetime(call_deadline(proposal.call), zone=False)},
            code="closed",
        )


def proposal_edit_refusal(proposal: Proposal, *, now: dt.datetime) -> str:
    """Why the proposal cannot be changed now ("" when it can): the same check every change makes, for a
    page that must say it (an old link to the editor of a withdrawn proposal, after the deadline…)."""
    try:
        _now_editable(proposal, now=now)
    except ProposalError as refused:
        return refused.messages[0]
    return ""


def proposal_editable(proposal: Proposal, *, now: dt.datetime) -> bool:
    """Whether the proposal can be changed now: a draft or a submitted proposal, while its call accepts
    submissions (the deadline, grace included, is the first instant refused). The same check every change
    makes; pages, the API and the next actions ask it here. ``EDITABLE_STATES`` alone is only the SQL
    pre-filter of a list: it knows nothing of the deadline."""
    return not proposal_edit_refusal(proposal, now=now)


def _lock(proposal_id: int, *, related: tuple[str, ...] = ()) -> Proposal:
    # of=("self",): PostgreSQL cannot lock the nullable side of the outer join to the unit.
    return Proposal.objects.select_for_update(of=("self",)).select_related("call", "unit", *related).get(pk=proposal_id)




def _touch(proposal: Proposal, *, now: dt.datetime) -> None:
    """Record that the content changed outside the main form (team, letter).

    ``lock_version`` guards the main form's fields only: adding a team member in one tab must not make
    the text typed in another tab conflict, since neither overwrites the other."""
    proposal.updated_at = now
    fields = ["updated_at"]
    if proposal.state == ProposalState.SUBMITTED:
        proposal.has_unsubmitted_changes = True
        fields.append("has_unsubmitted_changes")
    proposal.save(update_fields=fields)


def proposal_in_submission(proposal: Proposal, *, now: dt.datetime) -> bool:
    """Whether the submission checklist still guides the PI: a draft (which may yet be submitted, or shows
    why it no longer can), or a submitted proposal while the call accepts submissions (it may be changed and
    submitted again). Once the call closed on a submitted proposal, and after screening, a decision, an
    award or a withdrawal, the page shows where the proposal stands instead: a red "the call is open" on a
    funded proposal guided nobody."""
    if proposal.state == ProposalState.DRAFT:
        return True
    return proposal.state == ProposalState.SUBMITTED and call_accepts_submissions(proposal.call, now=now)
