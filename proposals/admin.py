"""Directorate staff read proposals here. Nothing a PI wrote can be changed from the admin: every field
and inline is read-only, and saving the page writes nothing."""

from django.contrib import admin
from django.db.models import Exists, OuterRef
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from calls.models import Institute, parse_unit_code
from iea import formats
from iea.admin_mixins import ExportFilteredMixin, IeaModelAdmin, ReadOnlyAdminMixin, ReadOnlyTabularInline
from iea.audit.actions import acting_as_label, action_label, state_label
from iea.audit.domain import audit_trail
from iea.notifications.admin_remind import RemindActionMixin

from .exports import proposal_sheets
from .models import (
    BudgetLine,
    PartnerInvitation,
    Proposal,
    ProposalVersion,
    SupportLetter,
    TeamMember,
    evaluated_by,
)
from .reminders import proposal_reminder_dues
from .rules import visible_proposals


def _link(url_name: str, kwargs: dict, text) -> str:
    # The download views live in proposals.urls; until they exist the admin still works, without the link.
    try:
        url = reverse(url_name, kwargs=kwargs)
    except NoReverseMatch:
        return "—"
    return format_html('<a href="{}">{}</a>', url, text)


def _paris(value) -> str:
    return "—" if value is None else formats.datetime(value)


def proposal_institute_filter(prefix: str = ""):
    """A list filter on the institute that evaluates the proposal at ``prefix`` (``models.evaluated_by``)."""

    class ProposalInstituteFilter(admin.SimpleListFilter):
        title = _("evaluating institute")
        parameter_name = "institute"

        def lookups(self, request, model_admin):
            return [(str(pk), code) for pk, code in Institute.objects.values_list("pk", "code")]

        def queryset(self, request, queryset):
            return queryset.filter(evaluated_by(self.value(), prefix)) if self.value() else queryset

    return ProposalInstituteFilter


class TeamMemberInline(ReadOnlyTabularInline):
    model = TeamMember
    fields = ("side", "name", "email", "position", "institution", "early_career")


class BudgetLineInline(ReadOnlyTabularInline):
    model = BudgetLine
    fields = ("year", "category", "amount")


class SupportLetterInline(ReadOnlyTabularInline):
    model = SupportLetter
    fields = (
        "original_name", "download", "size", "pages", "sha256", "cofunding", "cofunding_amount",
        "cofunding_currency", "uploaded_at", "uploaded_by_partner",
    )

    @admin.display(description=_("file"))
    def download(self, letter):
        return _link("proposals:letter", {"pk": letter.proposal_id, "letter_id": letter.pk}, _("Download"))


class ProposalVersionInline(ReadOnlyTabularInline):
    model = ProposalVersion
    fields = ("number", "submitted_at", "content_sha256", "letter_sha256", "receipt")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("letter")

    @admin.display(description=_("letter SHA-256"))
    def letter_sha256(self, version):
        return version.letter.sha256

    @admin.display(description=_("receipt"))
    def receipt(self, version):
        return _link("proposals:receipt", {"pk": version.proposal_id, "number": version.number}, _("Receipt"))


@admin.register(Proposal)
class ProposalAdmin(ExportFilteredMixin, RemindActionMixin, IeaModelAdmin):
    # The reference says the call (IEA27-…), the call and the regional delegation are filters: every column
    # in view at 1366 px beside the navigation, in French too (tests/crawl/checks.js, 2b).
    list_display = (
        "reference", "acronym", "title", "pi_name", "state", "unit_code", "institute_code", "submitted_at",
        "has_unsubmitted_changes",
    )
    list_filter = ("call", "state", proposal_institute_filter(), ("unit__delegation", admin.RelatedFieldListFilter))
    list_select_related = ("call", "pi", "unit__delegation", "unit__main_institute", "evaluating_institute")
    search_fields = ("reference", "title", "acronym", "pi__email", "pi__full_name", "partner_name", "partner_email", "unit__acronym")
    date_hierarchy = "submitted_at"
    inlines = (TeamMemberInline, BudgetLineInline, SupportLetterInline, ProposalVersionInline)
    actions = ("remind_now",)

    @staticmethod
    def remind_dues(proposals, now):
        return proposal_reminder_dues(proposals, now)

    @admin.action(description=_("Send a reminder now (proposal not submitted)"), permissions=["remind"])
    def remind_now(self, request, queryset):
        letters = SupportLetter.objects.filter(proposal=OuterRef("pk"))
        return self._remind(request, queryset.select_related("pi", "call").annotate(has_letter=Exists(letters)),
                            action="remind_now", title=_("Send a reminder now: proposals not submitted"))
    fieldsets = (
        (None, {"fields": (
            "reference", "call", "state", "pi", "created_at", "updated_at", "submitted_at", "has_unsubmitted_changes",
            "restarted_from",
        )}),
        (_("Project"), {"fields": ("title", "acronym", "abstract", "keywords", "activities", "ethics_statement")}),
        (_("Unit"), {"fields": ("unit", "evaluating_institute", "institute_code")}),
        (_("Foreign partner"), {"fields": ("partner_name", "partner_email", "partner_institution", "partner_country")}),
        (_("Screening"), {"fields": ("screening",)}),
        (_("History"), {"fields": ("audit_trail_table",)}),
    )

    export_name = "proposals"
    export_call = "call"

    def export_sheets(self, request, queryset):
        return proposal_sheets(queryset)

    def get_queryset(self, request):
        # The same rule as the proposal pages (proposals.rules), so the admin never shows more.
        return visible_proposals(request.user, super().get_queryset(request))

    def get_readonly_fields(self, request, obj=None):
        return [name for _title, options in self.fieldsets for name in options["fields"]]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        # Staff must not alter what the PI wrote: a stale save would also overwrite the PI's newer draft.
        pass

    def save_related(self, request, form, formsets, change):
        pass

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "show_save": False, "show_save_and_continue": False, "show_save_and_add_another": False,
        }
        return super().change_view(request, object_id, form_url, extra_context)

    def get_search_results(self, request, queryset, search_term):
        """Also find proposals by the unit code, however it is typed (``umr5558``, ``UMR 5558``)."""
        filtered = queryset
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        parsed = parse_unit_code(search_term)
        if parsed is not None:
            results |= filtered.filter(unit__unit_type=parsed[0], unit__number=parsed[1])
        return results, may_have_duplicates

    @admin.display(description=_("PI"), ordering="pi__full_name")
    def pi_name(self, obj):
        return obj.pi.display_name

    @admin.display(description=_("unit"), ordering="unit__number")
    def unit_code(self, obj):
        return obj.unit.code if obj.unit_id else "—"

    @admin.display(description=_("evaluating institute"))
    def institute_code(self, obj):
        institute = obj.institute
        return institute.code if institute else "—"

    @admin.display(description=_("regional delegation"), ordering="unit__delegation__name")
    def delegation(self, obj):
        return obj.unit.delegation if obj.unit_id else "—"

    @admin.display(description=_("screening"))
    def screening(self, obj):
        """Who screened the proposal, when, with what outcome and reason (the last ``proposal.screen``)."""
        entry = audit_trail(obj).filter(action="proposal.screen").select_related("actor").first() if obj and obj.pk else None
        if entry is None:
            return _("Not screened yet.")
        outcome = state_label(Proposal, entry.to_state)
        who = entry.actor.get_full_name() if entry.actor_id else "—"
        if entry.reason:
            return format_html(_("{outcome}, by {who} on {when}. Reason: {reason}"), outcome=outcome, who=who,
                               when=_paris(entry.created_at), reason=entry.reason)
        return format_html(_("{outcome}, by {who} on {when}."), outcome=outcome, who=who, when=_paris(entry.created_at))

    @admin.display(description=_("audit trail"))
    def audit_trail_table(self, obj):
        entries = list(audit_trail(obj)) if obj and obj.pk else []
        if not entries:
            return "—"
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    _paris(entry.created_at), action_label(entry.action),
                    entry.actor.display_name if entry.actor_id else acting_as_label(entry.actor_label) or "—",
                    state_label(Proposal, entry.from_state), state_label(Proposal, entry.to_state), entry.reason,
                )
                for entry in entries
            ),
        )
        return format_html(
            "<table><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead>"
            "<tbody>{}</tbody></table>",
            _("when"), _("what"), _("who"), _("from state"), _("to state"), _("reason"), rows,
        )


@admin.register(PartnerInvitation)
class PartnerInvitationAdmin(ReadOnlyAdminMixin, IeaModelAdmin):
    """Read-only: invitations are sent and revoked by ``proposals.domain``; the nonce is never shown."""

    list_display = ("proposal", "email", "created_at", "expires_at", "revoked_at", "revoked_reason")
    list_select_related = ("proposal",)
    search_fields = ("email", "proposal__reference")
    fields = ("proposal", "email", "language", "created_at", "created_by", "expires_at", "revoked_at", "revoked_reason",
              "last_used_at")
    readonly_fields = fields



