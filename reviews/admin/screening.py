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
from django.utils.translation import gettext_lazy, ngettext

from calls.domain import call_deadline
from calls.models import Call
from iea.admin_mixins import admin_page_context, error_text, require_view_permission
from iea.http import private_download
from iea.spreadsheets import XLSX_CONTENT_TYPE, workbook
from proposals.domain.information import information_item_choices
from proposals.models import InformationRequest, Proposal, ProposalState

from ..domain.information_requests import (
    information_request_ask,
    information_request_cancel,
    information_request_default_deadline,
)
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
    rows = screening_rows(call=call, now=now)
    return TemplateResponse(request, "admin/reviews/screening.html", admin_page_context(
        request, model_admin,
        title=_("Screening — %(call)s") % {"call": call},
        call=call, rows=rows, counts=screening_counts(call=call), deadline=call_deadline(call),
        history=screening_history(call=call),
        open_for_screening=call_deadline(call) <= now,
        # The bulk confirm skips a proposal with an open request for information: its button does not count it.
        automatically_eligible=sum(1 for row in rows if row.eligible and row.information_state != "open"),
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
            confirmed = screening_confirm_eligible(call_id=call.pk, user=request.user, now=now)
            messages.success(request, ngettext(
                "%(count)s proposal confirmed eligible.", "%(count)s proposals confirmed eligible.", confirmed.count,
            ) % {"count": confirmed.count})
            if confirmed.waiting:
                messages.warning(request, ngettext(
                    "Skipped, as a request for information is open on it: %(refs)s.",
                    "Skipped, as a request for information is open on them: %(refs)s.", len(confirmed.waiting),
                ) % {"refs": ", ".join(confirmed.waiting)})
            return
        if request.POST.get("action") == "cancel_request":
            _cancel_request(request, call, now=now)
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


def _cancel_request(request, call: Call, *, now) -> None:
    info = InformationRequest.objects.filter(pk=request.POST.get("request") or 0, proposal__call=call).select_related(
        "proposal").first() if (request.POST.get("request") or "").isdigit() else None
    if info is None:
        messages.error(request, _("This request for information is not in this call; nothing was changed."))
        return
    information_request_cancel(request_id=info.pk, user=request.user, now=now)
    messages.success(request, _("The request for information on %(ref)s was cancelled; screen it with its last "
                                "version.") % {"ref": info.proposal.reference})


# --- Asking for information (#21) ------------------------------------------------------------------------------


class InformationRequestForm(forms.Form):
    items = forms.MultipleChoiceField(label=gettext_lazy("What the PI may change"), widget=forms.CheckboxSelectMultiple)
    message = forms.CharField(label=gettext_lazy("What to fix (sent to the PI)"), max_length=4000,
                              widget=forms.Textarea(attrs={"rows": 5, "cols": 60}))
    deadline = forms.DateTimeField(
        label=gettext_lazy("Deadline (Paris time)"), input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["items"].choices = information_item_choices()


def information_request(request, model_admin, call_id: int, proposal_id: int):
    """Ask the PI of a submitted proposal for information: what may change, what to fix, by when. The form is
    the confirmation: it says what the PI will receive; sending it is the act."""
    require_view_permission(request, model_admin)
    if not model_admin.has_screen_permission(request):
        raise PermissionDenied
    proposal = get_object_or_404(Proposal.objects.select_related("call", "pi"), pk=proposal_id, call_id=call_id)
    screening_url = reverse("admin:reviews_screening", args=[call_id])
    now = timezone.now()
    form = InformationRequestForm(request.POST or None,
                                  initial={"deadline": timezone.localtime(information_request_default_deadline(now))})
    if request.method == "POST" and form.is_valid():
        try:
            information_request_ask(proposal_id=proposal.pk, user=request.user, now=now,
                                    language=request.LANGUAGE_CODE, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("The request for information on %(ref)s was sent to the PI.")
                             % {"ref": proposal.reference})
            return HttpResponseRedirect(f"{screening_url}#p{proposal.pk}")
    return TemplateResponse(request, "admin/reviews/information_request.html", admin_page_context(
        request, model_admin, title=_("Ask for information — %(ref)s") % {"ref": proposal.reference},
        call=proposal.call, proposal=proposal, form=form, screening_url=screening_url,
    ), status=400 if form.is_bound else 200)
