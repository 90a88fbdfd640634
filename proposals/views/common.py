"""What the PI's pages share: the access check and the way a refusal is shown."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404

from ..rules import can_edit_proposal, can_view_proposal, visible_proposals


def _proposal_for(request, pk, *, edit=False):
    """The proposal if the user may see (or edit) it; 404 otherwise, so its existence is not revealed."""
    qs = visible_proposals(request.user).select_related("call", "pi", "unit__main_institute", "evaluating_institute")
    proposal = get_object_or_404(qs, pk=pk)
    if not can_view_proposal(request.user, proposal) or (edit and not can_edit_proposal(request.user, proposal)):
        raise Http404
    return proposal


def _refuse(request, error: ValidationError):
    for message in error.messages:
        messages.error(request, message)
