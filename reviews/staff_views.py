"""The directorate's pages in the admin: screening the submitted proposals of a call, and deciding.

Hung on ``DecisionAdmin.get_urls`` behind ``admin_site.admin_view`` (staff, signed in, two-factor via
``iea.mfa``). Reading a page needs the admin's view permission; screening needs the proposal's change
permission and deciding the decision's. Every change goes through ``reviews.domain``; these views only
collect the input and report what the domain said.
"""

from collections import Counter
from decimal import Decimal

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q, Sum
from django.db.models.functions import Coalesce
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from calls.domain import call_deadline
from calls.models import Call
from iea.http import private_download
from proposals.models import Proposal, ProposalState

from .domain.decisions import (
    DECIDED_STATES,
    decision_clear,
    decision_set,
    decisions_notify,
    decisions_pending,
)
from .domain.decisions_page import decisions_page
from .domain.evaluation import evaluation_summary_filename, evaluation_summary_pdf
from .domain.screening import (
    proposal_screen,
    screening_confirm_eligible,
    screening_counts,
    screening_history,
    screening_rows,
)
from .models import Decision, DecisionOutcome


def _error_text(error: ValidationError) -> str:
    return " ".join(str(message) for message in error.messages)


def _may_view(request, model_admin) -> None:
    if not model_admin.has_view_permission(request):
        raise PermissionDenied


def _context(request, model_admin, **extra) -> dict:
    return {**model_admin.admin_site.each_context(request), "opts": model_admin.opts, **extra}


# --- The calls -----------------------------------------------------------------------------------------------


def call_list(request, model_admin):
    """Each call with what is left to screen and to decide, and the way to its two pages."""
    _may_view(request, model_admin)
    calls = Call.objects.annotate(
        to_screen=Count("proposals", filter=Q(proposals__state=ProposalState.SUBMITTED)),
        in_review=Count("proposals", filter=Q(proposals__state__in=[ProposalState.IN_REVIEW, ProposalState.RANKED])),
        decided=Count("proposals", filter=Q(proposals__state__in=DECIDED_STATES)),
    ).order_by("-year")
    return TemplateResponse(request, "admin/reviews/call_list.html", _context(
        request, model_admin, title=_("Screening and decisions"), calls=calls,
    ))


# --- Screening -------------------------------------------------------------------------------------------------


class ScreenForm(forms.Form):
    proposal = forms.IntegerField()
    verdict = forms.ChoiceField(choices=[("eligible", "eligible"), ("ineligible", "ineligible")])
    reason = forms.CharField(required=False, max_length=4000)


def screening(request, model_admin, call_id: int):
    _may_view(request, model_admin)
    call = get_object_or_404(Call, pk=call_id)
    url = reverse("admin:reviews_screening", args=[call.pk])
    if request.method == "POST":
        if not model_admin.has_screen_permission(request):
            raise PermissionDenied
        _screen(request, call)
        return HttpResponseRedirect(url)
    now = timezone.now()
    rows = screening_rows(call=call)
    return TemplateResponse(request, "admin/reviews/screening.html", _context(
        request, model_admin,
        title=_("Screening — %(call)s") % {"call": call},
        call=call, rows=rows, counts=screening_counts(call=call), deadline=call_deadline(call),
        history=screening_history(call=call),
        open_for_screening=call_deadline(call) <= now,
        automatically_eligible=sum(1 for row in rows if row.eligible),
        can_screen=model_admin.has_screen_permission(request),
    ))


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
        messages.error(request, _error_text(error))
        return
    if eligible:
        messages.success(request, _("%(ref)s is eligible.") % {"ref": proposal.reference})
    else:
        messages.success(request, _("%(ref)s is ineligible; the PI is told why.") % {"ref": proposal.reference})


# --- Decisions -------------------------------------------------------------------------------------------------


class DecisionForm(forms.Form):
    proposal = forms.IntegerField()
    outcome = forms.ChoiceField(choices=DecisionOutcome.choices, error_messages={"required": gettext_lazy("Choose an outcome.")})
    amount = forms.DecimalField(required=False, max_digits=9, decimal_places=2, min_value=0, localize=True)
    override_reason = forms.CharField(required=False, max_length=4000)


class ClearForm(forms.Form):
    proposal = forms.IntegerField()


def decisions(request, model_admin, call_id: int):
    _may_view(request, model_admin)
    call = get_object_or_404(Call, pk=call_id)
    url = reverse("admin:reviews_decisions", args=[call.pk])
    if request.method == "POST":
        if not model_admin.has_decide_permission(request):
            raise PermissionDenied
        anchor = _decide(request, call)
        # Back to the page the decision was taken on (the form posts to the page's own address).
        page = request.GET.get("page", "")
        back = f"{url}?page={int(page)}" if page.isdigit() else url
        return HttpResponseRedirect(f"{back}#{anchor}" if anchor else back)
    overview = decisions_page(call=call, page_number=request.GET.get("page"))
    return TemplateResponse(request, "admin/reviews/decisions.html", _context(
        request, model_admin,
        title=_("Decisions — %(call)s") % {"call": call},
        call=call, overview=overview, outcomes=DecisionOutcome.choices,
        can_decide=model_admin.has_decide_permission(request),
    ))


def _decide(request, call: Call) -> str:
    if request.POST.get("action") == "clear":
        return _clear(request, call)
    form = DecisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
        return ""
    proposal = Proposal.objects.filter(pk=form.cleaned_data["proposal"], call=call).first()
    if proposal is None:
        messages.error(request, _("This proposal is not in this call; nothing was changed."))
        return ""
    try:
        decision = decision_set(
            proposal_id=proposal.pk, user=request.user, outcome=form.cleaned_data["outcome"],
            amount=form.cleaned_data["amount"], now=timezone.now(),
            override_reason=form.cleaned_data["override_reason"],
        )
    except ValidationError as error:
        messages.error(request, _error_text(error))
    else:
        messages.success(request, _("%(ref)s: %(outcome)s.") % {
            "ref": proposal.reference, "outcome": decision.get_outcome_display().lower()})
    return f"p{proposal.pk}"


def _clear(request, call: Call) -> str:
    form = ClearForm(request.POST)
    proposal = Proposal.objects.filter(pk=form.cleaned_data["proposal"], call=call).first() if form.is_valid() else None
    if proposal is None:
        messages.error(request, _("This proposal is not in this call; nothing was changed."))
        return ""
    try:
        decision_clear(proposal_id=proposal.pk, user=request.user, now=timezone.now())
    except ValidationError as error:
        messages.error(request, _error_text(error))
    else:
        proposal.refresh_from_db(fields=["state"])
        messages.success(request, _("The decision on %(ref)s is cleared; the proposal is %(state)s again.") % {
            "ref": proposal.reference, "state": proposal.get_state_display().lower()})
    return f"p{proposal.pk}"


def decisions_notify_confirm(request, model_admin, call_id: int):
    """A confirmation page, then the mails: once sent, the decisions can no longer change."""
    if not model_admin.has_decide_permission(request):
        raise PermissionDenied
    call = get_object_or_404(Call, pk=call_id)
    back = reverse("admin:reviews_decisions", args=[call.pk])
    if request.method == "POST":
        try:
            count = decisions_notify(call_id=call.pk, user=request.user, now=timezone.now())
        except ValidationError as error:
            messages.error(request, _error_text(error))
        else:
            messages.success(request, ngettext(
                "%(count)s decision mail is on its way.", "%(count)s decision mails are on their way.", count,
            ) % {"count": count})
        return HttpResponseRedirect(back)
    pending = decisions_pending(call_id=call.pk)
    counts = Counter(decision.outcome for decision in pending)
    by_outcome = [(label, counts[value]) for value, label in DecisionOutcome.choices if counts[value]]
    selected_total = Decision.objects.filter(proposal__call=call, outcome=DecisionOutcome.SELECTED).aggregate(
        total=Coalesce(Sum("amount"), Decimal(0)))["total"]
    return TemplateResponse(request, "admin/reviews/decisions_notify.html", _context(
        request, model_admin,
        title=_("Send the decision mails — %(call)s") % {"call": call},
        call=call, by_outcome=by_outcome, pending=len(pending), decisions=pending, back=back,
        selected_total=selected_total, envelope=call.total_envelope,
        pending_selected_total=sum((d.amount for d in pending if d.outcome == DecisionOutcome.SELECTED), Decimal(0)),
        undecided=Proposal.objects.filter(
            call=call, state__in=[ProposalState.IN_REVIEW, ProposalState.RANKED]).count(),
    ))


def evaluation_summary(request, model_admin, proposal_id: int):
    """The evaluation summary as the PI (``?lang=fr``) or the partner (``?lang=en``) will receive it."""
    _may_view(request, model_admin)
    proposal = get_object_or_404(Proposal.objects.select_related("call"), pk=proposal_id)
    language = request.GET.get("lang")
    if language not in ("fr", "en"):
        language = (translation.get_language() or "fr")[:2]
    pdf = evaluation_summary_pdf(proposal=proposal, language=language)
    return private_download(pdf, filename=evaluation_summary_filename(proposal), content_type="application/pdf")
