"""Co-applicants (#21): the PI invites and removes them on the proposal's page; the invited person opens the
link, signs in with the invited address's account and accepts; a co-applicant may leave."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from .. import domain
from ..forms import CoApplicantForm
from .common import _proposal_for, _refuse

_SECTION = "#coapplicants"


@login_required
@require_POST
def coapplicant_invite(request, pk):
    proposal = _proposal_for(request, pk, relations=())
    form = CoApplicantForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("The invitation was not sent: %(reason)s") % {
            "reason": " ".join(e for errors in form.errors.values() for e in errors)})
        return redirect(reverse("proposals:detail", kwargs={"pk": proposal.pk}) + _SECTION)
    try:
        domain.coapplicant_invite(proposal_id=proposal.pk, user=request.user, now=timezone.now(), **form.cleaned_data)
    except ValidationError as error:
        _refuse(request, error)
    else:
        messages.success(request, _("The invitation was sent to %(email)s.") % {"email": form.cleaned_data["email"]})
    return redirect(reverse("proposals:detail", kwargs={"pk": proposal.pk}) + _SECTION)


@login_required
@require_POST
def coapplicant_revoke(request, pk, coapplicant_id):
    """The PI removes an invitation or a co-applicant; a co-applicant leaves (the same button, on their row)."""
    proposal = _proposal_for(request, pk, relations=())
    coapplicant = proposal.coapplicants.filter(pk=coapplicant_id).first()
    if coapplicant is None:
        raise Http404
    try:
        revoked = domain.coapplicant_revoke(coapplicant_id=coapplicant.pk, user=request.user, now=timezone.now())
    except ValidationError as error:
        _refuse(request, error)
        return redirect(reverse("proposals:detail", kwargs={"pk": proposal.pk}) + _SECTION)
    if revoked.user_id == request.user.pk:
        messages.success(request, _("You left the proposal %(reference)s.") % {"reference": proposal.reference})
        return redirect("dashboard")
    messages.success(request, _("%(email)s no longer has access to the proposal.") % {"email": revoked.email})
    return redirect(reverse("proposals:detail", kwargs={"pk": proposal.pk}) + _SECTION)


@login_required
@require_http_methods(["GET", "POST"])
def coapplicant_accept(request, nonce):
    """The invitation's link. Signed in with the invited address's account, the person accepts; signed in with
    another account, the page says which address was invited (and nothing of the proposal)."""
    coapplicant = domain.coapplicant_by_nonce(nonce)
    if coapplicant is None:
        raise Http404
    if coapplicant.user_id == request.user.pk and coapplicant.accepted_at and coapplicant.revoked_at is None:
        return redirect("proposals:detail", pk=coapplicant.proposal_id)
    refusal = domain.coapplicant_accept_refusal(coapplicant, user=request.user)
    if request.method == "POST" and not refusal:
        try:
            domain.coapplicant_accept(coapplicant_id=coapplicant.pk, user=request.user, now=timezone.now())
        except ValidationError as error:
            refusal = " ".join(error.messages)
        else:
            messages.success(request, _("You now prepare this proposal with %(pi)s.")
                             % {"pi": coapplicant.proposal.pi.get_full_name()})
            return redirect("proposals:detail", pk=coapplicant.proposal_id)
    context = {"coapplicant": coapplicant, "proposal": coapplicant.proposal, "refusal": refusal}
    return TemplateResponse(request, "proposals/coapplicant_invitation.html", context, status=403 if refusal else 200)
