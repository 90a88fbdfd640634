"""Amendments after the award: the directorate's list of amendments (filters: kind, state, call), each one's
page, and its decision — approve or refuse on a confirmation page with the reason (required to refuse),
through ``funding.domain.amendments.amendment_decide``. The award's page lists its amendments and versions."""

from django import forms
from django.contrib import admin, messages
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.loader import render_to_string
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from iea.admin_confirm import PlannedChange, confirm_page
from iea.admin_mixins import IeaModelAdmin, ReadOnlyAdminMixin, ReadOnlyTabularInline, error_text

from ..domain.amendments import AmendmentError, amendment_decide
from ..models import Amendment, AmendmentState, AwardVersion


def amendment_summary(amendment: Amendment) -> str:
    """What the amendment asks, in words (the same sentence as the mails and the letter)."""
    return render_to_string("funding/amendment_what.txt", {"amendment": amendment}).strip()


def _decide_links(amendment: Amendment) -> str:
    if not amendment.is_open:
        return "—"
    return format_html_join(" · ", '<a href="{}">{}</a>', (
        (reverse("admin:funding_amendment_decide", args=[amendment.pk, verb]), label)
        for verb, label in (("approve", gettext("Approve…")), ("refuse", gettext("Refuse…")))))


class AmendmentColumns:
    """What an amendment asks and its decision links, as columns of the list and of the award's page."""

    @admin.display(description=_("what"))
    def what(self, obj):
        return amendment_summary(obj)

    @admin.display(description=_("decision"))
    def decide(self, obj):
        return _decide_links(obj)


class AmendmentInline(AmendmentColumns, ReadOnlyTabularInline):
    """On the award's page: its amendments, the open ones with their decision links."""

    model = Amendment
    fields = ("kind", "what", "state", "requested_at", "opinion", "decided_at", "decide")
    ordering = ("-requested_at",)
    verbose_name_plural = _("amendments")

    def get_readonly_fields(self, request, obj=None):
        return self.fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("award__proposal")


class AwardVersionInline(ReadOnlyTabularInline):
    model = AwardVersion
    fields = ("number", "created_at", "created_by", "amendment", "letter")
    verbose_name_plural = _("versions of the award")

    def get_readonly_fields(self, request, obj=None):
        return self.fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("created_by", "amendment__award__proposal")

    @admin.display(description=_("award letter"))
    def letter(self, obj):
        url = reverse("funding:award_letter_version", kwargs={"pk": obj.award_id, "number": obj.number})
        return format_html('<a href="{}">{}</a>', url, gettext("PDF, version %(number)s") % {"number": obj.number})


class DecisionReasonForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), max_length=4000, required=False)

    def __init__(self, *args, approve: bool, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["reason"]
        field.required = not approve
        field.label = _("Comment for the PI (optional)") if approve else _("Reason for refusing (the PI reads it)")


@admin.register(Amendment)
class AmendmentAdmin(AmendmentColumns, ReadOnlyAdminMixin, IeaModelAdmin):
    """The amendments the PIs asked for; the open ones wait for the unit's opinion, then for a decision here."""

    # What is asked says its kind, and the reference its call (both filters on the side): the decision links
    # stay in view on a laptop's screen.
    list_display = ("reference", "what", "state", "opinion", "requested_at", "decide")
    list_filter = ("kind", "state", "award__proposal__call")
    list_select_related = ("award__proposal__call",)
    search_fields = ("award__proposal__reference", "award__proposal__acronym", "award__proposal__pi__email")
    fields = ("award", "kind", "what", "state", "reason", "requested_at", "requested_by", "opinion",
              "opinion_comment", "opinion_by", "opinion_at", "decided_at", "decided_by", "decision_reason",
              "withdrawn_at", "decide")
    readonly_fields = fields

    @admin.display(description=_("reference"), ordering="award__proposal__reference")
    def reference(self, obj):
        return obj.award.proposal.reference

    def get_urls(self):
        return [path("<int:pk>/decide/<str:verb>/", self.admin_site.admin_view(self.decide_view),
                     name="funding_amendment_decide"), *super().get_urls()]

    def decide_view(self, request, pk, verb):
        """The confirmation page of a decision; posted back with ``apply``, it goes through the domain."""
        if verb not in ("approve", "refuse") or not self.has_view_permission(request):
            raise Http404
        amendment = get_object_or_404(Amendment.objects.select_related("award__proposal__call"), pk=pk)
        approve = verb == "approve"
        form = DecisionReasonForm(request.POST if "apply" in request.POST else None, approve=approve)
        back = reverse("admin:funding_award_change", args=[amendment.award_id])
        if form.is_bound and form.is_valid():
            try:
                amendment_decide(amendment_id=amendment.pk, user=request.user, approve=approve,
                                 reason=form.cleaned_data["reason"], now=timezone.now())
            except AmendmentError as error:
                self.message_user(request, error_text(error), messages.ERROR)
            else:
                self.message_user(request, gettext("Amendment approved; the award has a new version.") if approve
                                  else gettext("Amendment refused; the PI and the unit are told."), messages.SUCCESS)
                return HttpResponseRedirect(back)
        refused = "" if amendment.is_open else gettext("This amendment is already %(state)s.") % {
            "state": amendment.get_state_display().lower()}
        opinion = (amendment.get_opinion_display() if amendment.opinion
                   else gettext("The unit has not given its opinion yet."))
        return confirm_page(
            self, request, [amendment], action=verb, back=back, form=form,
            title=gettext("Approve the amendment") if approve else gettext("Refuse the amendment"),
            intro=gettext("%(reference)s: %(what)s. Reason given by the PI: %(reason)s Unit's opinion: %(opinion)s") % {
                "reference": amendment.award.proposal.reference, "what": amendment_summary(amendment),
                "reason": amendment.reason, "opinion": opinion + (
                    f" — {amendment.opinion_comment}" if amendment.opinion_comment else "")},
            changes=[PlannedChange(str(amendment), amendment.get_state_display(),
                                   AmendmentState.APPROVED.label if approve else AmendmentState.REFUSED.label,
                                   refused=refused)],
            submit_label=gettext("Approve") if approve else gettext("Refuse"),
        )
