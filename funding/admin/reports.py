"""Reports (approve, ask for changes) and the read-only lists of tranches, spending and invitations."""

from django.contrib import admin, messages
from django.contrib.auth import get_permission_codename
from django.core.exceptions import ValidationError
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from iea.admin_confirm import PlannedChange, confirm_page
from iea.admin_mixins import ExportFilteredMixin, IeaModelAdmin, ReadOnlyAdminMixin, ReadOnlyTabularInline
from iea.notifications.admin_remind import RemindActionMixin
from proposals.admin import proposal_institute_filter

from ..domain.reports import report_review
from ..exports import report_sheets
from ..models import (
    CosignInvitation,
    Report,
    ReportPeriod,
    ReportSpending,
    ReportState,
    SpendingLine,
    Tranche,
)
from ..reminders import report_reminder_dues
from ..selectors import tranches_due
from .common import ReasonPageMixin


class ReportSpendingInline(ReadOnlyTabularInline):
    model = ReportSpending
    fields = ("category", "amount")


class CosignInvitationInline(ReadOnlyTabularInline):
    """The invitations sent to the partner; their secret is never shown."""

    model = CosignInvitation
    fields = ("email", "created_at", "expires_at", "revoked_at")


@admin.register(Report)
class ReportAdmin(ExportFilteredMixin, RemindActionMixin, ReasonPageMixin, ReadOnlyAdminMixin, IeaModelAdmin):
    """Reports are written by the PI and co-signed by the partner on the site; here staff read them and
    approve the co-signed ones or ask for changes (``report_review``)."""

    list_display = ("reference", "period", "state", "submitted_at", "cosigned_at", "reviewed_at", "reviewed_by")
    list_filter = ("state", "period", "award__proposal__call", proposal_institute_filter("award__proposal__"),
                   "award__unit__delegation")
    list_select_related = ("award__proposal", "reviewed_by")
    search_fields = ("award__proposal__reference", "award__proposal__acronym", "award__proposal__pi__email")
    fields = (
        "award", "period", "state", "scientific_review", "cofunding_received", "cofunding_currency", "updated_at",
        "submitted_at", "cosigned_at", "cosigned_by", "cosign_declined_at", "cosign_declined_by", "cosign_decline_comment",
        "reviewed_at", "reviewed_by", "review_comment", "site_link",
    )
    readonly_fields = fields
    inlines = (ReportSpendingInline, CosignInvitationInline)
    actions = ("approve_reports", "ask_for_changes", "remind_now")
    export_name = "reports"
    export_call = "award__proposal__call"

    def export_sheets(self, request, queryset):
        return report_sheets(queryset)

    @staticmethod
    def remind_dues(reports, now):
        return report_reminder_dues(reports, now)

    @admin.action(description=_("Send a reminder now (report due)"), permissions=["remind"])
    def remind_now(self, request, queryset):
        return self._remind(request, queryset.select_related("award__proposal__pi"), action="remind_now",
                            title=_("Send a reminder now: reports due"))

    @admin.display(description=_("award"), ordering="award__proposal__reference")
    def reference(self, obj):
        return obj.award.proposal.reference

    @admin.display(description=_("page on the site"))
    def site_link(self, obj):
        try:
            url = reverse("funding:report", kwargs={"pk": obj.award_id, "period": obj.period})
        except NoReverseMatch:
            return "—"
        return format_html('<a href="{}">{}</a>', url, url)

    def has_review_permission(self, request) -> bool:
        """Reviewing a report changes it, as the model permission says; the record itself is read-only,
        since only ``funding.domain.reports`` writes it."""
        return request.user.has_perm(f"{self.opts.app_label}.{get_permission_codename('change', self.opts)}")

    def _review(self, request, report, *, approve, comment):
        label = str(report)
        try:
            report_review(report_id=report.pk, user=request.user, approve=approve, comment=comment, now=timezone.now())
        except ValidationError as error:
            self._refused(request, label, error)
        else:
            done = _("%(report)s: approved.") if approve else _("%(report)s: changes asked; the PI is told.")
            self.message_user(request, done % {"report": label}, messages.SUCCESS)

    @admin.action(description=_("Approve (co-signed reports)"), permissions=["review"])
    def approve_reports(self, request, queryset):
        reports = list(queryset.select_related("award__proposal").order_by("award__proposal__reference", "period"))
        if "apply" in request.POST:
            for report in reports:  # a refused one says why again, from the domain
                self._review(request, report, approve=True, comment="")
            return None
        changes = []
        for report in reports:
            after = (_("approved; the award is closed") if report.period == ReportPeriod.FINAL else
                     ReportState.APPROVED.label)
            refused = "" if report.state == ReportState.COSIGNED else _(
                "only a co-signed report is approved; this one is %(state)s") % {
                "state": report.get_state_display().lower()}
            changes.append(PlannedChange(str(report), before=report.get_state_display(), after=after,
                                         refused=refused))
        return confirm_page(
            self, request, reports, action="approve_reports", title=_("Approve co-signed reports"),
            intro=_("Each co-signed report is approved and its PI told; approving a final report closes its "
                    "award. The reports in another state are left as they are."),
            changes=changes, submit_label=_("Approve"),
        )

    @admin.action(description=_("Ask for changes"), permissions=["review"])
    def ask_for_changes(self, request, queryset):
        return self._with_reason(
            request, queryset.select_related("award__proposal"), action="ask_for_changes",
            title=_("Ask for changes"),
            intro=_("Each co-signed report goes back to the PI with your comment; the others are left as they are."),
            label=_("What must change (the PI reads it)"), submit_label=_("Ask for changes"),
            run=lambda report, comment: self._review(request, report, approve=False, comment=comment),
            describe=lambda report: PlannedChange(
                str(report), before=report.get_state_display(), after=ReportState.CHANGES_REQUESTED.label,
                refused="" if report.state == ReportState.COSIGNED else _(
                    "only a co-signed report goes back to the PI; this one is %(state)s") % {
                    "state": report.get_state_display().lower()}),
        )


# --- Read-only lists -------------------------------------------------------------------------------------------


class ReleasableFilter(admin.SimpleListFilter):
    """The tranches that may be released today (``tranches_due``: planned by today, every earlier tranche
    released, the gating report approved): what *To do now* and the dashboard count."""

    title = _("release")
    parameter_name = "releasable"

    def lookups(self, request, model_admin):
        return [("now", _("May be released today"))]

    def queryset(self, request, queryset):
        if self.value() == "now":
            return queryset.filter(pk__in=tranches_due().filter(planned_date__lte=timezone.localdate()).values("pk"))
        return queryset


@admin.register(Tranche)
class TrancheAdmin(ReadOnlyAdminMixin, IeaModelAdmin):
    """To find tranches; they change on their award's page and through its actions."""

    list_display = ("reference", "number", "amount", "planned_date", "state", "decided_at", "received_at")
    list_filter = (ReleasableFilter, "state", "number", "award__proposal__call", "award__unit__delegation")
    list_select_related = ("award__proposal",)
    search_fields = ("award__proposal__reference", "award__proposal__acronym")
    fields = ("award", "number", "amount", "planned_date", "state", "decided_at", "decided_by", "withheld_reason",
              "received_at", "received_by")

    @admin.display(description=_("award"), ordering="award__proposal__reference")
    def reference(self, obj):
        return obj.award.proposal.reference


@admin.register(SpendingLine)
class SpendingLineAdmin(ReadOnlyAdminMixin, IeaModelAdmin):
    list_display = ("reference", "date", "category", "amount", "description", "recorded_by")
    list_filter = ("category", "award__proposal__call", "award__unit__delegation")
    list_select_related = ("award__proposal", "recorded_by")
    search_fields = ("award__proposal__reference", "description")
    fields = ("award", "date", "category", "amount", "description", "recorded_at", "recorded_by")

    @admin.display(description=_("award"), ordering="award__proposal__reference")
    def reference(self, obj):
        return obj.award.proposal.reference


@admin.register(CosignInvitation)
class CosignInvitationAdmin(ReadOnlyAdminMixin, IeaModelAdmin):
    """Who was asked to co-sign which report, and until when; the link's secret never appears."""

    list_display = ("report", "email", "created_at", "expires_at", "revoked_at")
    list_filter = (("revoked_at", admin.EmptyFieldListFilter),)
    list_select_related = ("report__award__proposal",)
    search_fields = ("email", "report__award__proposal__reference")
    fields = ("report", "email", "created_at", "expires_at", "revoked_at")
