"""The directorate's pages in the admin: the calls with what is left to screen and to decide, and screening
the submitted proposals of a call. (Deciding is funding's: ``funding.admin.decisions``.)

Hung on ``DecisionAdmin.get_urls`` (``records``) behind ``admin_site.admin_view`` (staff, signed in,
two-factor via ``iea.mfa``). Reading a page needs the admin's view permission; screening needs the
proposal's change permission. Every change goes through ``reviews.domain``; these views only collect the
input and report what the domain said.
"""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from calls.domain import call_deadline
from calls.models import Call
from iea.admin_mixins import admin_page_context, error_text, require_view_permission
from iea.http import private_download
from iea.spreadsheets import XLSX_CONTENT_TYPE, workbook
from proposals.models import Proposal, ProposalState

from ..domain.screening import (
    proposal_screen,
    screening_confirm_eligible,
    screening_counts,
    screening_history,
    screening_rows,
)
from ..exports import screening_sheets
from ..models import DECIDED_STATES

# --- The calls -----------------------------------------------------------------------------------------------


def call_list(request, model_admin):
    """Each call with what is left to screen and to decide, and the way to its two pages."""
    require_view_permission(request, model_admin)
    calls = Call.objects.annotate(
        to_screen=Count("proposals", filter=Q(proposals__state=ProposalState.SUBMITTED)),
        in_review=Count("proposals", filter=Q(proposals__state__in=[ProposalState.IN_REVIEW, ProposalState.RANKED])),
        decided=Count("proposals", filter=Q(proposals__state__in=DECIDED_STATES)),
    ).order_by("-year")
    return TemplateResponse(request, "admin/reviews/call_list.html", admin_page_context(
        request, model_admin, title=_("Screening and decisions"), calls=calls,
    ))


# --- Screening -------------------------------------------------------------------------------------------------


class ScreenForm(forms.Form):
    proposal = forms.IntegerField()
    verdict = forms.ChoiceField(choices=[("eligible", "eligible"), ("ineligible", "ineligible")])
    reason = forms.CharField(required=False, max_length=4000)


def screening(request, model_admin, call_id: int):
    require_view_permission(request, model_admin)
    call = get_object_or_404(Call, pk=call_id)
    url = reverse("admin:reviews_screening", args=[call.pk])
    if request.method == "POST":
        if not model_admin.has_screen_permission(request):
            raise PermissionDenied
        _screen(request, call)
        return HttpResponseRedirect(url)
    now = timezone.now()
    rows = screening_rows(call=call)
    return TemplateResponse(request, "admin/reviews/screening.html", admin_page_context(
        request, model_admin,
        title=_("Screening — %(call)s") % {"call": call},
        call=call, rows=rows, counts=screening_counts(call=call), deadline=call_deadline(call),
        history=screening_history(call=call),
        open_for_screening=call_deadline(call) <= now,
        automatically_eligible=sum(1 for row in rows if row.eligible),
        can_screen=model_admin.has_screen_permission(request),
    ))


def screening_export(request, model_admin, call_id: int):
    """The screening of the call as a workbook: who may read the page may download it."""
    require_view_permission(request, model_admin)
    call = get_object_or_404(Call, pk=call_id)
    filename = f"screening-{call.year}-{timezone.localdate():%Y-%m-%d}.xlsx"
    return private_download(workbook(screening_sheets(call=call)), filename=filename, content_type=XLSX_CONTENT_TYPE)


def _screen(request, call: Call) -> None:
    now = timezone.now()
    try:
        if request.POST.get("action") == "confirm_all":
            count = screening_confirm_eligible(call_id=call.pk, user=request.user, now=now)
            messages.success(request, ngettext(
                "%(count)s proposal confirmed eligible.", "%(count)s proposals confirmed eligible.", count,
            ) % {"count": count})
            return
        form = ScreenForm(request.POST)
        if not form.is_valid():
            messages.error(request, _("The form was incomplete; nothing was changed."))
            return
        proposal = Proposal.objects.filter(pk=form.cleaned_data["proposal"], call=call).first()
        if proposal is None:
            messages.error(request, _("This proposal is not in this call; nothing was changed."))
            return
        eligible = form.cleaned_data["verdict"] == "eligible"
        proposal_screen(proposal_id=proposal.pk, user=request.user, eligible=eligible,
                        reason=form.cleaned_data["reason"], now=now)
    except ValidationError as error:
        messages.error(request, error_text(error))
        return
    if eligible:
        messages.success(request, _("%(ref)s is eligible.") % {"ref": proposal.reference})
    else:
        messages.success(request, _("%(ref)s is ineligible; the PI is told why.") % {"ref": proposal.reference})
