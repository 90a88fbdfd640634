"""What every proposal rule shares: the error type, the row lock, the editable-window check, dates."""

import datetime as dt
from collections.abc import Iterable

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from calls.domain import call_accepts_submissions, call_deadline
from iea import formats
from iea.errors import DomainError

from ..models import (
    EDITABLE_STATES,
    RFI_BUDGET,
    RFI_LETTER,
    RFI_TEAM,
    InformationRequest,
    InformationRequestState,
    Proposal,
    ProposalState,
)
from ..rules import is_proposal_applicant, is_proposal_pi


class ProposalError(DomainError):
    """A proposal rule refused the request."""


def _require_pi(proposal: Proposal, user, *, refusal: str = "") -> None:
    """Only the proposal's PI changes it (``proposals.rules.is_proposal_pi``, as the pages ask);
    ``refusal`` says what was refused when it is more than a change."""
    if user is None or not is_proposal_pi(user, proposal):
        raise ProposalError(refusal or _("Only the PI can change this proposal."), code="forbidden")


def _require_applicant(proposal: Proposal, user) -> None:
    """The PI or a co-applicant who edits with them (``proposals.rules.is_proposal_applicant``, #21) changes
    the draft: its form, team, budget and letter. Submitting, withdrawing and inviting stay the PI's."""
    if user is None or not is_proposal_applicant(user, proposal):
        raise ProposalError(_("Only the PI and the co-applicants can change this proposal."), code="forbidden")




_ITEM_LABELS = {
    RFI_LETTER: gettext_lazy("support letter"), RFI_TEAM: gettext_lazy("team"), RFI_BUDGET: gettext_lazy("budget"),
}


def information_item_label(item: str) -> str:
    """What a request for information may let change, in the reader's language: the letter, the team, the
    budget, or a field of the main form by its name on the page."""
    if item in _ITEM_LABELS:
        return str(_ITEM_LABELS[item])
    if item == "unit":
        return str(gettext_lazy("unit"))
    return str(Proposal._meta.get_field(item).verbose_name)


def information_item_labels(items: Iterable[str]) -> str:
    return ", ".join(information_item_label(item) for item in items)


def open_information_request(proposal: Proposal, *, now: dt.datetime) -> InformationRequest | None:
    """The request for information that lets the PI change the proposal now (#21): open, deadline not passed.
    Reads ``information_requests`` from the prefetch cache when a list prefetched it (one query per page)."""
    if proposal.state != ProposalState.SUBMITTED or proposal.pk is None:
        return None
    cache = getattr(proposal, "_prefetched_objects_cache", {})
    if "information_requests" in cache:
        candidates = list(cache["information_requests"])
    else:
        candidates = list(proposal.information_requests.filter(state=InformationRequestState.OPEN))
    return next((request for request in candidates if request.is_open_at(now)), None)


def information_request_in_force(proposal: Proposal, *, now: dt.datetime) -> InformationRequest | None:
    """The open request for information that sets what may change now, or None: while the call accepts
    submissions everything may change, whatever a request says; once it closed, only what the request names."""
    if proposal.state != ProposalState.SUBMITTED or call_accepts_submissions(proposal.call, now=now):
        return None
    return open_information_request(proposal, now=now)


def _now_editable(proposal: Proposal, *, now: dt.datetime, items: Iterable[str] | None = None) -> None:
    """Whether the proposal may change now. ``items`` names what would change (``information_items``: a field of
    the main form, "team", "budget", "letter"); ``()`` asks whether anything may change, and ``None`` is an act
    that is no change of content (submitting, withdrawing), which only the open call allows.

    Once the call closed, a submitted proposal under an open request for information (#21) may change the items
    the request names, and only those, until the request's deadline."""
    if proposal.state not in EDITABLE_STATES:
        raise ProposalError(
            _("This proposal is %(state)s and can no longer be changed.")
            % {"state": proposal.get_state_display().lower()},
            code="not_editable",
        )
    if call_accepts_submissions(proposal.call, now=now):
        return
    request = open_information_request(proposal, now=now) if items is not None else None
    if request is not None:
        outside = [item for item in dict.fromkeys(items) if item not in request.items]
        if not outside:
            return
        raise ProposalError(
            _("The request for information lets you change only: %(asked)s. Not changed: %(refused)s.")
            % {"asked": information_item_labels(request.items), "refused": information_item_labels(outside)},
            code="not_asked",
        )
    raise ProposalError(
        _("The call closed on %(deadline)s (Paris time); the proposal can no longer be changed.")
        % {"deadline": formats.datetime(call_deadline(proposal.call), zone=False)},
        code="closed",
    )


def proposal_edit_refusal(proposal: Proposal, *, now: dt.datetime, items: Iterable[str] = ()) -> str:
    """Why the proposal cannot be changed now ("" when it can): the same check every change makes, for a
    page that must say it (an old link to the editor of a withdrawn proposal, after the deadline…). ``items``
    as for ``_now_editable``: by default, whether anything at all may change."""
    try:
        _now_editable(proposal, now=now, items=items)
    except ProposalError as refused:
        return refused.messages[0]
    return ""


def proposal_editable(proposal: Proposal, *, now: dt.datetime, items: Iterable[str] = ()) -> bool:
    """Whether the proposal can be changed now: a draft or a submitted proposal, while its call accepts
    submissions (the deadline, grace included, is the first instant refused), or the items an open request for
    information names. The same check every change makes; pages, the API and the next actions ask it here.
    ``EDITABLE_STATES`` alone is only the SQL pre-filter of a list: it knows nothing of the deadline."""
    return not proposal_edit_refusal(proposal, now=now, items=items)


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
