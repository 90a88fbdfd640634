"""The foreign partner's page, reached through the invitation link, without an account."""

from django.contrib import messages
from django.db.models import Prefetch
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from calls.domain import call_accepts_submissions, call_deadline

from .. import domain
from ..forms import LetterForm
from ..models import ProposalState
from .editor import _attach_letter


def partner(request, token):
    """The foreign partner, without an account, reads the proposal and uploads the support letter."""
    now = timezone.now()
    try:
        invitation = domain.invitation_resolve(token, now=now)
    except domain.InvitationInvalid as invalid:
        return render(request, "proposals/partner_invalid.html", {"message": invalid.message}, status=403)
    proposal = invitation.proposal
    form = LetterForm(request.POST or None, request.FILES or None)
    error = ""
    if request.method == "POST":
        error = _attach_letter(form, proposal=proposal, now=now, invitation=invitation)
        if not error:
            messages.success(request, _("Thank you: the support letter was uploaded. The PI has been told."))
            return redirect("proposals:partner", token=token)
    proposal = type(proposal).objects.prefetch_related(Prefetch("team")).select_related("call", "pi", "unit").get(pk=proposal.pk)
    context = {
        "invitation": invitation, "proposal": proposal, "team": list(proposal.team.all()),
        "letter": domain.current_letter(proposal), "letter_form": form, "error": error,
        "editable": proposal.state in (ProposalState.DRAFT, ProposalState.SUBMITTED) and call_accepts_submissions(proposal.call, now=now),
        "deadline": call_deadline(proposal.call),
    }
    return render(request, "proposals/partner.html", context, status=400 if error else 200)
