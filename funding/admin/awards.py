"""Awards and their tranches: release, withhold, suspend, resume, edit planned tranches, export."""

from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.http import HttpResponseRedirect
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from iea.admin_confirm import PlannedChange, confirm_page
from iea.admin_mixins import ExportFilteredMixin, IeaModelAdmin, ReadOnlyTabularInline, error_text
from iea.http import private_download
from iea.notifications.admin_remind import RemindActionMixin
from proposals.admin import proposal_institute_filter

from ..domain.acceptance import award_cancel, award_cancellable
from ..domain.awards import (
    award_set_state,
    award_state_refusal,
    tranche_gate,
    tranche_release,
    tranche_update,
    tranche_withhold,
)
from ..exports import XLSX_CONTENT_TYPE, award_sheets, awards_xlsx, with_totals
from ..models import (
    Award,
    AwardState,
    Report,
    SpendingLine,
    Tranche,
    TrancheState,
)
from ..reminders import award_acceptance_reminder_dues
from ..rules import visible_awards
from .amendments import AmendmentInline, AwardVersionInline
from .common import ReasonPageMixin, _money


class TrancheForm(forms.ModelForm):
    """Amount and planned date stay editable while the tranche is planned; released or withheld, they
    are history."""

    class Meta:
        model = Tranche
        fields = ("amount", "planned_date")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk and self.instance.state != TrancheState.PLANNED:
            for name, field in self.fields.items():
                # A page loaded while the tranche was still planned posts these fields: they reach the
                # domain, which refuses them with its reason, instead of being dropped without a word.
                field.disabled = not (self.is_bound and self.add_prefix(name) in self.data)


class TrancheInline(admin.TabularInline):
    """Saved through ``tranche_update`` by ``AwardAdmin.save_formset``, never directly."""

    model = Tranche
    form = TrancheForm
    extra = 0
    can_delete = False
    fields = ("number", "amount", "planned_date", "state", "decided_at", "decided_by", "withheld_reason", "received_at")
    readonly_fields = ("number", "state", "decided_at", "decided_by", "withheld_reason", "received_at")

    def has_add_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("decided_by")


class ReportInline(ReadOnlyTabularInline):
    model = Report
    fields = ("period", "state", "submitted_at", "cosigned_at", "reviewed_at", "links")
    ordering = ("-period",)  # "year1" before "final"

    @admin.display(description=_("pages"))
    def links(self, obj):
        admin_link = format_html('<a href="{}">{}</a>', reverse("admin:funding_report_change", args=[obj.pk]),
                                 _("in the admin"))
        try:
            site_url = reverse("funding:report", kwargs={"pk": obj.award_id, "period": obj.period})
        except NoReverseMatch:
            return admin_link
        return format_html('{} · <a href="{}">{}</a>', admin_link, site_url, _("on the site"))


class SpendingLineInline(ReadOnlyTabularInline):
    model = SpendingLine
    fields = ("date", "category", "amount", "description", "recorded_by", "recorded_at")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("recorded_by")


@admin.register(Award)
class AwardAdmin(ExportFilteredMixin, RemindActionMixin, ReasonPageMixin, IeaModelAdmin):
    """Awards are created by the decision mails (``award_create``); here staff follow them and move their
    tranches and state with the actions. No award field is edited by hand."""

    # The reference says the call (IEA25-…), the delegation is a filter, and the awards of a call start
    # together while their ends move with extensions: every column in view at 1366 px (tests/crawl/checks.js, 2b).
    list_display = (
        "reference", "acronym", "pi", "unit_code", "institute_code", "amount_display",
        "released_total_display", "spent_total_display", "state", "end_date",
    )
    list_filter = ("proposal__call", proposal_institute_filter("proposal__"), "unit__delegation", "state")
    list_select_related = (
        "proposal__pi", "proposal__call", "proposal__evaluating_institute", "proposal__unit__main_institute",
        "unit__delegation",
    )
    search_fields = (
        "proposal__reference", "proposal__title", "proposal__acronym", "proposal__pi__email", "unit__acronym",
    )
    fields = (
        "proposal", "unit", "amount", "start_date", "end_date", "state", "created_at", "accept_by", "accepted_at",
        "declined_at", "decline_reason", "cancelled_at", "cancel_reason", "closed_at", "partner_institution",
        "partner_country",
        "released_total_display", "received_total_display", "spent_total_display",
    )
    readonly_fields = fields
    inlines = (TrancheInline, ReportInline, SpendingLineInline, AmendmentInline, AwardVersionInline)
    actions = ("release_next_tranche", "withhold_next_tranche", "suspend_awards", "resume_awards", "cancel_awards",
               "remind_now", "export_xlsx")

    @staticmethod
    def remind_dues(awards, now):
        return award_acceptance_reminder_dues(awards, now)

    export_name = "awards"
    export_call = "proposal__call"

    def export_sheets(self, request, queryset):
        return award_sheets(queryset)

    def get_queryset(self, request):
        return with_totals(visible_awards(request.user, super().get_queryset(request)))

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    # The list -------------------------------------------------------------------------------------------------

    @admin.display(description=_("reference"), ordering="proposal__reference")
    def reference(self, obj):
        return obj.proposal.reference

    @admin.display(description=_("acronym"), ordering="proposal__acronym")
    def acronym(self, obj):
        return obj.proposal.acronym

    @admin.display(description=_("PI"), ordering="proposal__pi__email")
    def pi(self, obj):
        return obj.proposal.pi.get_full_name() or obj.proposal.pi.email

    @admin.display(description=_("unit"), ordering="unit__number")
    def unit_code(self, obj):
        return obj.unit.code

    @admin.display(description=_("call"), ordering="proposal__call__year")
    def call(self, obj):
        return obj.proposal.call

    @admin.display(description=_("evaluating institute"))
    def institute_code(self, obj):
        institute = obj.proposal.institute
        return institute.code if institute else "—"

    @admin.display(description=_("delegation"), ordering="unit__delegation__name")
    def delegation(self, obj):
        return obj.unit.delegation

    @admin.display(description=_("amount (€)"), ordering="amount")
    def amount_display(self, obj):
        return _money(obj.amount)

    @admin.display(description=_("released (€)"), ordering="released_total")
    def released_total_display(self, obj):
        return _money(obj.released_total)

    @admin.display(description=_("received by the unit (€)"), ordering="received_total")
    def received_total_display(self, obj):
        return _money(obj.received_total)

    @admin.display(description=_("spent (€)"), ordering="spent_total")
    def spent_total_display(self, obj):
        return _money(obj.spent_total)

    # The change page: only the planned tranches change, through the domain ------------------------------------

    def save_model(self, request, obj, form, change):
        """Nothing of the award itself is edited here."""

    def save_formset(self, request, form, formset, change):
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        if formset.model is not Tranche:
            return  # the reports and the spending are read-only
        changed = [f for f in formset.forms if f.instance.pk and f.has_changed()]
        # Lower a tranche before raising another, so that the sum stays within the award at every step.
        changed.sort(key=lambda f: f.cleaned_data["amount"] - f.initial["amount"])
        for tranche_form in changed:
            tranche = tranche_form.instance
            try:
                tranche_update(
                    tranche_id=tranche.pk, user=request.user, amount=tranche_form.cleaned_data["amount"],
                    planned_date=tranche_form.cleaned_data["planned_date"], now=timezone.now(),
                )
            except (ValidationError, IntegrityError) as error:
                request._funding_refused = True
                reason = error_text(error) if isinstance(error, ValidationError) else _(
                    "The tranches would exceed the award.")
                self.message_user(request, _("Tranche %(number)s was not changed: %(reason)s") % {
                    "number": tranche.number, "reason": reason}, messages.ERROR)
            else:
                formset.changed_objects.append((tranche, tranche_form.changed_data))

    def response_change(self, request, obj):
        if getattr(request, "_funding_refused", False):
            # Back to the page with the refusal, not "changed successfully".
            return HttpResponseRedirect(request.path)
        return super().response_change(request, obj)

    # Actions on the list --------------------------------------------------------------------------------------

    @staticmethod
    def _next_planned(award):
        return next((t for t in award.tranches.all() if t.state == TrancheState.PLANNED), None)

    def _on_next_tranche(self, request, award, run, done) -> None:
        """``run`` the next planned tranche of ``award`` through the domain; say what happened."""
        tranche = self._next_planned(award)
        if tranche is None:
            self.message_user(request, _("%(ref)s: no planned tranche is left.") % {
                "ref": award.proposal.reference}, messages.ERROR)
            return
        label = _("%(ref)s, tranche %(number)s") % {"ref": award.proposal.reference, "number": tranche.number}
        try:
            run(tranche)
        except ValidationError as error:
            self._refused(request, label, error)
        else:
            self.message_user(request, done % {"label": label, "amount": _money(tranche.amount)}, messages.SUCCESS)

    @admin.action(description=_("Release the next tranche"), permissions=["change"])
    def release_next_tranche(self, request, queryset):
        awards = list(queryset.select_related("proposal").prefetch_related("tranches", "reports")
                      .order_by("proposal__reference"))
        if "apply" in request.POST:
            for award in awards:
                self._on_next_tranche(
                    request, award,
                    lambda tranche: tranche_release(tranche_id=tranche.pk, user=request.user, now=timezone.now()),
                    _("%(label)s: %(amount)s released."),
                )
            return None
        changes, released = [], Decimal(0)
        for award in awards:
            changes.append(self._release_preview(award))
            if not changes[-1].refused:
                released += self._next_planned(award).amount
        return confirm_page(
            self, request, awards, action="release_next_tranche", title=_("Release the next tranche"),
            intro=_("The next planned tranche of each award is released, if its gate allows it (the award accepted "
                    "and active, the earlier tranches released, the reports it waits for approved); the PI and the "
                    "unit managers are told. The call's envelope does not change."),
            changes=changes, totals=[(_("Released by this action"), _money(released))],
            submit_label=_("Release"),
        )

    def _release_preview(self, award) -> PlannedChange:
        """What releasing ``award``'s next tranche will do, by the gate ``tranche_release`` applies."""
        tranche = self._next_planned(award)
        if tranche is None:
            return PlannedChange(award.proposal.reference, refused=_("no planned tranche is left."))
        label = _("%(ref)s, tranche %(number)s") % {"ref": award.proposal.reference, "number": tranche.number}
        before = _("planned, %(amount)s") % {"amount": _money(tranche.amount)}
        return PlannedChange(label, before=before, after=_("released, %(amount)s") % {"amount": _money(tranche.amount)},
                             refused=tranche_gate(tranche))

    @admin.action(description=_("Withhold the next tranche"), permissions=["change"])
    def withhold_next_tranche(self, request, queryset):
        def run(award, reason):
            self._on_next_tranche(
                request, award,
                lambda tranche: tranche_withhold(tranche_id=tranche.pk, user=request.user, reason=reason, now=timezone.now()),
                _("%(label)s: %(amount)s withheld."),
            )

        def describe(award):
            tranche = self._next_planned(award)
            if tranche is None:
                return PlannedChange(str(award), refused=_("no planned tranche is left."))
            return PlannedChange(
                _("%(award)s — tranche %(number)s (%(amount)s)") % {
                    "award": award, "number": tranche.number, "amount": _money(tranche.amount)},
                before=TrancheState.PLANNED.label, after=TrancheState.WITHHELD.label,
            )

        return self._with_reason(
            request, queryset.select_related("proposal").prefetch_related("tranches"),
            action="withhold_next_tranche", title=_("Withhold the next tranche"),
            intro=_("The next planned tranche of each award is withheld; the PI and the unit managers receive "
                    "the reason."),
            label=_("Reason, as the PI and the unit will read it"), submit_label=_("Withhold"), run=run,
            describe=describe,
        )

    def _set_state(self, request, queryset, *, state, action, title, intro, submit_label, done):
        def run(award, reason):
            try:
                award_set_state(award_id=award.pk, user=request.user, state=state, reason=reason, now=timezone.now())
            except ValidationError as error:
                self._refused(request, award.proposal.reference, error)
            else:
                self.message_user(request, done % {"ref": award.proposal.reference}, messages.SUCCESS)

        def describe(award):
            return PlannedChange(str(award), before=award.get_state_display(), after=AwardState(state).label,
                                 refused=award_state_refusal(award, state))

        return self._with_reason(
            request, queryset.select_related("proposal"), action=action, title=title, intro=intro,
            label=_("Reason (kept in the audit trail)"), submit_label=submit_label, run=run, describe=describe,
        )

    @admin.action(description=_("Suspend"), permissions=["change"])
    def suspend_awards(self, request, queryset):
        return self._set_state(
            request, queryset, state=AwardState.SUSPENDED, action="suspend_awards", title=_("Suspend awards"),
            intro=_("No tranche of a suspended award is released and its reports cannot be changed until it is "
                    "resumed."),
            submit_label=_("Suspend"), done=_("%(ref)s is suspended."),
        )

    @admin.action(description=_("Resume"), permissions=["change"])
    def resume_awards(self, request, queryset):
        return self._set_state(
            request, queryset, state=AwardState.ACTIVE, action="resume_awards", title=_("Resume awards"),
            intro=_("The awards become active again."), submit_label=_("Resume"), done=_("%(ref)s is active again."),
        )

    @admin.action(description=_("Cancel (declined, or not accepted in time)"), permissions=["change"])
    def cancel_awards(self, request, queryset):
        def run(award, reason):
            try:
                award_cancel(award_id=award.pk, user=request.user, reason=reason, now=timezone.now())
            except ValidationError as error:
                self._refused(request, award.proposal.reference, error)
            else:
                self.message_user(request, _("%(ref)s is cancelled; %(amount)s return to the call's envelope.") % {
                    "ref": award.proposal.reference, "amount": _money(award.amount)}, messages.SUCCESS)

        now = timezone.now()

        def describe(award):
            before = (_("declined: %(reason)s") % {"reason": award.decline_reason}
                      if award.state == AwardState.DECLINED else award.get_state_display())
            refused = "" if award_cancellable(award, now) else _(
                "only a declined award, or one not accepted in time, can be cancelled")
            return PlannedChange(str(award), before=before, refused=refused, after=_(
                "cancelled; %(amount)s return to the envelope") % {"amount": _money(award.amount)})

        return self._with_reason(
            request, queryset.select_related("proposal"), action="cancel_awards", title=_("Cancel awards"),
            intro=_("A declined award, or one not accepted in time, is cancelled: nothing is released on it and its "
                    "amount returns to the call's envelope, for a proposal of the reserve list."),
            label=_("Reason (kept in the audit trail)"), submit_label=_("Cancel the awards"), run=run,
            describe=describe,
        )

    @admin.action(description=_("Send a reminder now (award to accept)"), permissions=["remind"])
    def remind_now(self, request, queryset):
        return self._remind(request, queryset.select_related("proposal__pi"), action="remind_now",
                            title=_("Send a reminder now: awards to accept"))

    @admin.action(description=_("Export to Excel (XLSX)"), permissions=["view"])
    def export_xlsx(self, request, queryset):
        filename = f"awards-{timezone.localdate():%Y-%m-%d}.xlsx"
        return private_download(awards_xlsx(queryset), filename=filename, content_type=XLSX_CONTENT_TYPE)


# --- Reports ---------------------------------------------------------------------------------------------------
