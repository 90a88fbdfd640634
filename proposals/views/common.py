"""What the PI's pages share: the access check and the way a refusal is shown."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import prefetch_related_objects
from django.http import Http404
from django.shortcuts import get_object_or_404

from ..models import Proposal
from ..rules import can_edit_proposal, can_view_proposal, visible_proposals


def _proposal_for(request, pk, *, edit=False, relations=None):
    """The proposal if the user may see (or edit) it; 404 otherwise, so its existence is not revealed. With
    the relations its page shows (``_PAGE_RELATIONS``), or only ``relations``: a change that the domain makes
    under a lock reads the proposal again there."""
    qs = visible_proposals(request.user).select_related(*(_PAGE_RELATIONS if relations is None else relations))
    proposal = get_object_or_404(qs, pk=pk)
    if not can_view_proposal(request.user, proposal) or (edit and not can_edit_proposal(request.user, proposal)):
        raise Http404
    return proposal


# What the editor and the proposal's page read of a proposal: its relations in the same query, its team and
# budget once each (the checklist, the form and the templates all read them).
_PAGE_RELATIONS = ("call", "pi", "unit__main_institute", "evaluating_institute", "restarted_from__call")
_PAGE_PREFETCH = ("team", "budget_lines")


def _with_content(proposal: Proposal) -> Proposal:
    prefetch_related_objects([proposal], *_PAGE_PREFETCH)
    return proposal


def _reloaded(proposal: Proposal) -> Proposal:
    """The proposal as stored now (after a write), relations and content included."""
    proposal.refresh_from_db(from_queryset=Proposal.objects.select_related(*_PAGE_RELATIONS))
    return _with_content(proposal)


def _refuse(request, error: ValidationError):
    for message in error.messages:
        messages.error(request, message)
