"""The directorate's decision pages in the admin: deciding on the proposals of a call, announcing the
decisions (their mails), promoting a reserve once they are out, and the evaluation summary as the PI
and the partner will receive it.

The decisions are money (``funding.domain.decisions``), the ``Decision`` rows stay in reviews: these pages
are hung on reviews' decision admin, extended here, so their addresses and URL names
(``admin:reviews_decisions``, ``…_decisions_notify``, ``…_promote``, ``…_evaluation_summary``) stay those
of the decision admin, beside the screening pages it keeps (``reviews.admin.screening``). Behind
``admin_site.admin_view`` (staff, signed in, two-factor via ``iea.mfa``). Reading a page needs the admin's
view permission, deciding the decision's change permission. Every change goes through the domain; these
views only collect the input and report what the domain said.
"""

from collections import Counter
from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.auth import get_permission_codename
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Sum
from django.db.models.functions import Coalesce
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST

from calls.models import Call
from iea import formats
from iea.admin_confirm import PlannedChange, confirm_page
from iea.admin_mixins import admin_page_context, error_text, require_view_permission
from iea.http import private_download
from proposals.models import Proposal, ProposalState
from reviews.admin.records import DecisionAdmin as ReviewsDecisionAdmin
from reviews.domain.evaluation import evaluation_summary_filename, evaluation_summary_pdf
from reviews.models import Decision, DecisionOutcome

from ..domain.decisions import (
    RECOMMENDED_OUTCOMES,
    DecisionItem,
    decision_clear,
    decision_refusal,
    decision_set,
    decisions_announce,
    decisions_pending,
    decisions_set_many,
    selected_sum,
    selected_total,
)
from ..domain.reserve import reserve_promote
from ..selectors import decisions_page, decisions_rows
from .exports import decisions_export

# Reviews registers the decision admin with its screening pages; this one adds the decision pages to it.
admin.site.unregister(Decision)


@admin.register(Decision)
class DecisionAdmin(ReviewsDecisionAdmin):
    """The decisions, read-only as in reviews; they are taken on the "Decisions" page of each call."""

    def has_decide_permission(self, request) -> bool:
        """Taking decisions is a change of decisions, as the model permission says: the list itself is
        read-only, since only ``funding.domain.decisions`` writes them."""
        opts = self.opts
        return request.user.has_perm(f"{opts.app_label}.{get_permission_codename('change', opts)}")

    def staff_urls(self) -> list:
        return [
            *super().staff_urls(),
            path("call/<int:call_id>/decisions/", self.staff_view(decisions), name="reviews_decisions"),
            path("call/<int:call_id>/decisions/export.xlsx", self.staff_view(decisions_export),
                 name="reviews_decisions_export"),
            path("call/<int:call_id>/decisions/notify/", self.staff_view(decisions_notify_confirm),
                 name="reviews_decisions_notify"),
            path("call/<int:call_id>/decisions/<int:proposal_id>/promote/", self.staff_view(promote),
                 name="reviews_promote"),
            path("proposal/<int:proposal_id>/evaluation-summary.pdf", self.staff_view(evaluation_summary),
                 name="reviews_evaluation_summary"),
        ]


class DecisionForm(forms.Form):
    proposal = forms.IntegerField()
    outcome = forms.ChoiceField(choices=DecisionOutcome.choices, error_messages={"required": gettext_lazy("Choose an outcome.")})
    amount = forms.DecimalField(required=False, max_digits=9, decimal_places=2, min_value=0, localize=True)
    override_reason = forms.CharField(required=False, max_length=4000)


class ClearForm(forms.Form):
    proposal = forms.IntegerField()


def decisions(request, model_admin, call_id: int):
    require_view_permission(request, model_admin)
    call = get_object_or_404(Call, pk=call_id)
    url = reverse("admin:reviews_decisions", args=[call.pk])
    if request.method == "POST":
        if not model_admin.has_decide_permission(request):
            raise PermissionDenied
        if request.POST.get("action") == "apply_recommendation":
            return batch_decide(request, model_admin, call)
        anchor = _decide(request, call)
        # Back to the page the decision was taken on (the form posts to the page's own address).
        page = request.GET.get("page", "")
        back = f"{url}?page={int(page)}" if page.isdigit() else url
        return HttpResponseRedirect(f"{back}#{anchor}" if anchor else back)
    overview = decisions_page(call=call, page_number=request.GET.get("page"))
    return TemplateResponse(request, "admin/reviews/decisions.html", admin_page_context(
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
        messages.error(request, error_text(error))
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
        messages.error(request, error_text(error))
    else:
        proposal.refresh_from_db(fields=["state"])
        messages.success(request, _("The decision on %(ref)s is cleared; the proposal is %(state)s again.") % {
            "ref": proposal.reference, "state": proposal.get_state_display().lower()})
    return f"p{proposal.pk}"


# --- Deciding several proposals at once: the panel's recommendation, after a confirmation ----------------------


class BatchDecideForm(forms.Form):
    override_reason = forms.CharField(
        required=False, max_length=4000, widget=forms.Textarea(attrs={"rows": 3}),
        label=gettext_lazy("Reason to decide anyway"),
        help_text=gettext_lazy("Needed when a decision lacks reviews or the panel's recommendation, or selects a "
                               "proposal under a threshold; kept on each such decision and in the audit trail."),
    )

    def __init__(self, *args, needs_reason: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.needs_reason = needs_reason

    def clean_override_reason(self):
        reason = self.cleaned_data["override_reason"].strip()
        if self.needs_reason and not reason:
            raise forms.ValidationError(_("Some decisions lack something (see the table): give a reason."))
        return reason


def _recommended(row) -> tuple[str, Decimal | None]:
    """The decision the panel's recommendation stands for: fund → selected with the proposed amount."""
    outcome = RECOMMENDED_OUTCOMES.get(row.recommendation.recommendation if row.recommendation else "", "")
    amount = row.recommendation.proposed_amount if outcome and outcome != DecisionOutcome.REJECTED else None
    return outcome, amount


def _decision_text(outcome: str, amount: Decimal | None) -> str:
    label = str(DecisionOutcome(outcome).label)
    return label if amount is None else f"{label}, {formats.money(amount)}"


def batch_decide(request, model_admin, call: Call):
    """The ticked proposals of the decisions page take their panel's recommendation: a confirmation lists
    each outcome and amount, what it lacks, and the selected total before and after against the envelope;
    *apply* takes them all through ``decisions_set_many``, or none."""
    back = reverse("admin:reviews_decisions", args=[call.pk])
    ids = [int(pk) for pk in request.POST.getlist(helpers.ACTION_CHECKBOX_NAME) if pk.isdigit()]
    rows = decisions_rows(call=call, proposal_ids=ids)
    if not rows:
        messages.error(request, _("Tick the proposals to decide first; nothing was changed."))
        return HttpResponseRedirect(back)
    planned, changes = [], []
    for row in rows:
        outcome, amount = _recommended(row)
        proposal = row.proposal
        refused = _("the panel has not recommended it") if not outcome else decision_refusal(
            call=call, proposal=proposal, decision=row.decision, outcome=outcome, amount=amount)
        gaps = row.readiness.gaps(selecting=outcome == DecisionOutcome.SELECTED) if outcome else []
        after = _decision_text(outcome, amount) if outcome else ""
        if gaps and not refused:
            after = _("%(decision)s — missing: %(gaps)s") % {"decision": after, "gaps": "; ".join(gaps)}
        before = (_decision_text(row.decision.outcome, row.decision.amount) if row.decision
                  else _("not decided"))
        label = f"{proposal.reference} — {proposal.acronym}" if proposal.acronym else proposal.reference
        changes.append(PlannedChange(label, before=before, after=after, refused=refused))
        if not refused:
            planned.append((row, DecisionItem(proposal_id=proposal.pk, outcome=outcome, amount=amount), gaps))
    form = BatchDecideForm(request.POST if "apply" in request.POST else None,
                           needs_reason=any(gaps for _row, _item, gaps in planned))
    if form.is_bound and form.is_valid():
        if not planned:
            messages.error(request, _("No ticked proposal can take its panel's recommendation; nothing was changed."))
            return HttpResponseRedirect(back)
        try:
            taken = decisions_set_many(call_id=call.pk, items=[item for _row, item, _gaps in planned],
                                       user=request.user, now=timezone.now(),
                                       override_reason=form.cleaned_data["override_reason"])
        except ValidationError as error:
            messages.error(request, error_text(error))
        else:
            messages.success(request, ngettext("%(count)s decision taken.", "%(count)s decisions taken.",
                                               len(taken)) % {"count": len(taken)})
        return HttpResponseRedirect(back)
    before_total = selected_total(call)
    after_total = before_total - selected_sum([row for row, _item, _gaps in planned]) + sum(
        (item.amount for _row, item, _gaps in planned if item.outcome == DecisionOutcome.SELECTED), Decimal(0))
    totals = [(_("Selected in the call now"), formats.money(before_total)),
              (_("Selected in the call after"), formats.money(after_total))]
    if call.total_envelope is not None:
        totals += [(_("Envelope of the call"), formats.money(call.total_envelope)),
                   (_("Remaining after"), formats.money(call.total_envelope - after_total))]
    return confirm_page(
        model_admin, request, [row.proposal for row in rows], action="apply_recommendation",
        title=_("Apply the panel's recommendation — %(call)s") % {"call": call},
        intro=_("Each ticked proposal takes its panel's recommendation: fund → selected with the proposed amount, "
                "reserve → reserve list, reject → rejected. Either all the decisions below are taken or none, if "
                "one is refused or the selected total would pass the envelope. They can still be changed until "
                "their mail is sent."),
        changes=changes, totals=totals, submit_label=_("Take the decisions"), form=form, back=back,
    )


def decisions_notify_confirm(request, model_admin, call_id: int):
    """A confirmation page, then the mails: once sent, the decisions can no longer change."""
    if not model_admin.has_decide_permission(request):
        raise PermissionDenied
    call = get_object_or_404(Call, pk=call_id)
    back = reverse("admin:reviews_decisions", args=[call.pk])
    if request.method == "POST":
        try:
            count = decisions_announce(call_id=call.pk, user=request.user, now=timezone.now())
        except ValidationError as error:
            messages.error(request, error_text(error))
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
    return TemplateResponse(request, "admin/reviews/decisions_notify.html", admin_page_context(
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
    require_view_permission(request, model_admin)
    proposal = get_object_or_404(Proposal.objects.select_related("call"), pk=proposal_id)
    language = request.GET.get("lang")
    if language not in ("fr", "en"):
        language = (translation.get_language() or "fr")[:2]
    pdf = evaluation_summary_pdf(proposal=proposal, language=language)
    return private_download(pdf, filename=evaluation_summary_filename(proposal), content_type="application/pdf")


# --- The reserve, once the decision mails are out (``funding.domain.reserve``) ------------------------------


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
            "ref": proposal.reference, "reason": error_text(error)})
    else:
        messages.success(request, _("%(ref)s is selected for %(amount)s; its PI is told by mail and the award awaits "
                                    "their acceptance.") % {"ref": proposal.reference,
                                                            "amount": formats.money(decision.amount)})
    return HttpResponseRedirect(f"{back}#p{proposal.pk}")
