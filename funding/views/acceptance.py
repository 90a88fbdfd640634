"""The PI accepts or declines an award (``funding.domain.acceptance``). Only the award's PI may post here;
anyone else gets a 404, as on the award's page. A refusal (already answered, too late, no reason) is
shown on the award's page with the reason typed kept."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from iea import formats

from ..domain.acceptance import REASON_MAX, award_accept, award_decline
from ..domain.awards import FundingError
from ..models import Award, AwardState
from ..rules import is_award_pi


class DeclineForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Why do you decline the award?"), max_length=REASON_MAX,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=gettext_lazy("Your unit and the directorate read it."),
        error_messages={"required": gettext_lazy("Say why you decline the award."),
                        "max_length": gettext_lazy("Keep the reason under %(limit_value)d characters.")},
    )


def _own_award(request, pk) -> Award:
    award = get_object_or_404(Award.objects.select_related("proposal__pi", "proposal__call", "unit"), pk=pk)
    if not is_award_pi(request.user, award):
        raise Http404
    return award


@login_required
@require_POST
def award_accept_view(request, pk):
    award = _own_award(request, pk)
    try:
        award = award_accept(award_id=award.pk, user=request.user, now=timezone.now())
    except FundingError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        messages.success(request, _("You accepted the award of %(amount)s. Your unit %(unit)s has been told; the "
                                    "directorate releases the first tranche.") % {
            "amount": formats.money(award.amount), "unit": award.unit.code})
    return redirect("funding:award", pk=award.pk)


@login_required
@require_http_methods(["GET", "POST"])
def award_decline_view(request, pk):
    """A page that asks the reason, then declines through the domain."""
    award = _own_award(request, pk)
    if request.method == "GET" and award.state != AwardState.AWAITING:
        messages.info(request, _("This award no longer awaits your answer."))
        return redirect("funding:award", pk=award.pk)
    form = DeclineForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                award_decline(award_id=award.pk, user=request.user, reason=form.cleaned_data["reason"],
                              now=timezone.now())
            except FundingError as error:
                form.add_error("reason" if error.code == "reason" else None, error)
            else:
                messages.success(request, _("You declined the award. Your unit and the directorate have been told."))
                return redirect("funding:award", pk=award.pk)
        status = 400
    return render(request, "funding/pi/award_decline.html",
                  {"award": award, "proposal": award.proposal, "form": form}, status=status)
