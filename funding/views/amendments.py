"""The PI's amendment pages: ask for an amendment (one form per kind), withdraw it. Access: the award's PI
only (anyone else: 404, as for the award); the rules are the domain's (``funding.domain.amendments``)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from ..domain.amendments import (
    AmendmentError,
    amendment_request,
    amendment_request_refusal,
    amendment_withdraw,
    extension_months_left,
)
from ..forms.amendments import FORM_OF_KIND
from ..models import Amendment, AmendmentKind
from ..rules import is_award_pi
from .pi import award_for


def _amendments_url(award_id: int) -> str:
    return reverse("funding:award", kwargs={"pk": award_id}) + "#amendments"


@login_required
@require_http_methods(["GET", "POST"])
def amendment_new(request, pk, kind):
    """Ask for an amendment of one kind; a refusal shows on its field, with everything typed kept."""
    if kind not in AmendmentKind.values:
        raise Http404
    award = award_for(request, pk)
    if not is_award_pi(request.user, award):
        raise Http404
    form_class = FORM_OF_KIND[kind]
    left = extension_months_left(award)
    refusal = amendment_request_refusal(award, kind)
    form = form_class(request.POST if request.method == "POST" else None, months_left=left)
    status = 200
    if request.method == "POST":
        if refusal:
            messages.error(request, refusal)
            return redirect(_amendments_url(award.pk))
        if form.is_valid():
            try:
                amendment_request(award_id=award.pk, user=request.user, kind=kind, reason=form.cleaned_data["reason"],
                                  now=timezone.now(), **form.domain_arguments())
            except AmendmentError as error:
                form.add_domain_error(error)
            else:
                messages.success(request, _("Your request was sent to your unit for its opinion; the directorate "
                                            "then decides. You will be told by e-mail."))
                return redirect(_amendments_url(award.pk))
        messages.error(request, _("Not sent: correct the fields marked below."))
        status = 400
    return render(request, "funding/pi/amendment_new.html", {
        "award": award, "proposal": award.proposal, "kind": AmendmentKind(kind), "form": form, "refusal": refusal,
        "months_left": left, "budget_lines": list(award.budget_lines.all()) if kind == AmendmentKind.TRANSFER else [],
    }, status=status)


@login_required
@require_POST
def amendment_withdraw_view(request, amendment_id):
    amendment = get_object_or_404(Amendment.objects.select_related("award__proposal"), pk=amendment_id)
    if not is_award_pi(request.user, amendment.award):
        raise Http404
    try:
        amendment_withdraw(amendment_id=amendment.pk, user=request.user, now=timezone.now())
    except AmendmentError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        messages.success(request, _("Your request was withdrawn."))
    return redirect(_amendments_url(amendment.award_id))
