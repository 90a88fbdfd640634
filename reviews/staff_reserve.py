"""The staff's promotion of a reserve, from the decisions page (``reviews.domain.reserve``). Hung on
``DecisionAdmin.get_urls`` behind ``admin_site.admin_view`` like the other staff pages; it needs the
permission to decide. The view collects the amount and reports what the domain said."""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from calls.models import Call
from iea import formats
from proposals.models import Proposal

from .domain.reserve import reserve_promote


class PromoteForm(forms.Form):
    amount = forms.DecimalField(
        max_digits=9, decimal_places=2, min_value=0, localize=True,
        error_messages={"required": gettext_lazy("Give the amount awarded."),
                        "invalid": gettext_lazy("Enter the amount in euros, such as 12000.")},
    )
    override_reason = forms.CharField(required=False, max_length=2000)


@require_POST
def promote(request, model_admin, call_id: int, proposal_id: int):
    if not model_admin.has_decide_permission(request):
        raise PermissionDenied
    call = get_object_or_404(Call, pk=call_id)
    proposal = get_object_or_404(Proposal, pk=proposal_id, call=call)
    back = reverse("admin:reviews_decisions", args=[call.pk])
    page = request.GET.get("page", "")
    back = f"{back}?page={int(page)}" if page.isdigit() else back
    form = PromoteForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("%(ref)s was not promoted: %(reason)s") % {
            "ref": proposal.reference, "reason": " ".join(str(e) for errors in form.errors.values() for e in errors)})
        return HttpResponseRedirect(f"{back}#p{proposal.pk}")
    try:
        decision = reserve_promote(proposal_id=proposal.pk, user=request.user, amount=form.cleaned_data["amount"],
                                   now=timezone.now(), override_reason=form.cleaned_data["override_reason"])
    except ValidationError as error:
        messages.error(request, _("%(ref)s was not promoted: %(reason)s") % {
            "ref": proposal.reference, "reason": " ".join(str(m) for m in error.messages)})
    else:
        messages.success(request, _("%(ref)s is selected for %(amount)s; its PI is told by mail and the award awaits "
                                    "their acceptance.") % {"ref": proposal.reference,
                                                            "amount": formats.money(decision.amount)})
    return HttpResponseRedirect(f"{back}#p{proposal.pk}")
