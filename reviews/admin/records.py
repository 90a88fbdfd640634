"""The records of the review in the admin, read-only: conflicts, assignments, reviews and recommendations
are written only by ``reviews.domain``, decisions only by ``funding.domain.decisions``. The directorate's
screening pages (``screening``) are hung on the decision admin; funding's admin extends it with the
decision pages (``funding.admin.decisions``)."""

from django.contrib import admin
from django.contrib.auth import get_permission_codename
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from iea.admin_mixins import ExportFilteredMixin, IeaModelAdmin, ReadOnlyAdminMixin, ReadOnlyTabularInline
from iea.notifications.admin_remind import RemindActionMixin
from proposals.admin import proposal_institute_filter
from proposals.models import Proposal

from ..exports import review_sheets
from ..models import Assignment, Conflict, ConflictDismissal, Decision, PanelRecommendation, Review, Score
from ..reminders import review_reminder_dues
from ..selectors import overdue_assignments
from . import screening


@admin.register(Conflict)
class ConflictAdmin(ReadOnlyAdminMixin, IeaModelAdmin):
    list_display = ("proposal", "reviewer", "source", "cause", "created_at")
    list_filter = ("proposal__call", proposal_institute_filter("proposal__"), "source")
    list_select_related = ("proposal", "reviewer__user", "reviewer__institute")
    search_fields = ("proposal__reference", "reviewer__user__email", "reviewer__user__full_name", "cause")
    date_hierarchy = "created_at"


@admin.register(ConflictDismissal)
class ConflictDismissalAdmin(ReadOnlyAdminMixin, IeaModelAdmin):
    """Co-author matches on a name that an officer dismissed as "not the same person"
    (``reviews.domain.conflicts.conflict_dismiss``): for the record, never edited."""

    list_display = ("proposal", "reviewer", "cause", "dismissed_by", "dismissed_at")
    list_filter = ("proposal__call", proposal_institute_filter("proposal__"), "cause")
    list_select_related = ("proposal", "reviewer__user", "reviewer__institute", "dismissed_by")
    search_fields = ("proposal__reference", "reviewer__user__email", "reviewer__user__full_name", "reason")
    date_hierarchy = "dismissed_at"
    fields = ("proposal", "reviewer", "cause", "detail", "reason", "dismissed_by", "dismissed_at")


class OverdueFilter(admin.SimpleListFilter):
    """The assignments still open past their due date with no submitted review
    (``reviews.selectors.overdue_assignments``): what the dashboards count as overdue."""

    title = _("lateness")
    parameter_name = "overdue"

    def lookups(self, request, model_admin):
        return [("1", _("Overdue"))]

    def queryset(self, request, queryset):
        if self.value() == "1":
            return queryset.filter(pk__in=overdue_assignments(timezone.now()).values("pk"))
        return queryset


@admin.register(Assignment)
class AssignmentAdmin(RemindActionMixin, ReadOnlyAdminMixin, IeaModelAdmin):
    list_display = ("proposal", "reviewer", "panel", "state", "due_at", "automatic", "responded_at")
    list_filter = (OverdueFilter, "panel__call", "panel__institute", "state", "automatic")
    list_select_related = ("proposal", "reviewer__user", "reviewer__institute", "panel__call", "panel__institute")
    search_fields = ("proposal__reference", "proposal__acronym", "reviewer__user__email", "reviewer__user__full_name")
    actions = ("remind_now",)

    @staticmethod
    def remind_dues(assignments, now):
        return review_reminder_dues(assignments, now)

    @admin.action(description=_("Send a reminder now (reviews due)"), permissions=["remind"])
    def remind_now(self, request, queryset):
        return self._remind(request, queryset.select_related("reviewer__user", "proposal", "review"),
                            action="remind_now", title=_("Send a reminder now: reviews due"))


class ScoreInline(ReadOnlyTabularInline):
    model = Score
    fields = ("criterion", "score", "max_score", "comment")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("criterion")


@admin.register(Review)
class ReviewAdmin(ExportFilteredMixin, ReadOnlyAdminMixin, IeaModelAdmin):
    list_display = ("proposal", "reviewer", "state", "recommendation", "submitted_at")
    list_filter = ("proposal__call", proposal_institute_filter("proposal__"), "state", "recommendation")
    list_select_related = ("proposal", "reviewer__user", "reviewer__institute")
    search_fields = ("proposal__reference", "proposal__acronym", "reviewer__user__email", "reviewer__user__full_name")
    inlines = (ScoreInline,)
    fields = ("proposal", "reviewer", "assignment", "state", "recommendation", "comment_for_pi",
              "confidential_comment", "created_at", "updated_at", "submitted_at")
    export_name = "reviews"
    export_call = "proposal__call"

    def export_sheets(self, request, queryset):
        return review_sheets(queryset, user=request.user)


@admin.register(PanelRecommendation)
class PanelRecommendationAdmin(ReadOnlyAdminMixin, IeaModelAdmin):
    list_display = ("proposal", "panel", "rank", "recommendation", "proposed_amount", "updated_at")
    list_filter = ("panel__call", "panel__institute", "recommendation")
    list_select_related = ("proposal", "panel__call", "panel__institute")
    search_fields = ("proposal__reference", "proposal__acronym", "proposal__title")
    ordering = ("panel", "rank")


@admin.register(Decision)
class DecisionAdmin(ReadOnlyAdminMixin, IeaModelAdmin):
    """The decisions, read-only; they are taken on the "Decisions" page of each call, which funding's admin
    adds to this one (``funding.admin.decisions``). The screening pages are hung here (``screening``)."""

    list_display = ("proposal", "call", "institute_code", "outcome", "amount", "decided_at", "decided_by", "notified_at")
    list_filter = ("proposal__call", proposal_institute_filter("proposal__"), "outcome",
                   ("notified_at", admin.EmptyFieldListFilter))
    list_select_related = (
        "proposal__call", "proposal__evaluating_institute", "proposal__unit__main_institute", "decided_by",
    )
    search_fields = ("proposal__reference", "proposal__acronym", "proposal__title", "proposal__pi__email")

    @admin.display(description=_("call"), ordering="proposal__call")
    def call(self, obj):
        return obj.proposal.call

    @admin.display(description=_("evaluating institute"))
    def institute_code(self, obj):
        institute = obj.proposal.institute
        return institute.code if institute else "—"

    def has_screen_permission(self, request) -> bool:
        """Screening changes the proposal's state: the proposal's change permission."""
        opts = Proposal._meta
        return request.user.has_perm(f"{opts.app_label}.{get_permission_codename('change', opts)}")

    def staff_view(self, view):
        """A staff page of this admin: ``view(request, model_admin, ...)`` behind ``admin_site.admin_view``."""
        def inner(request, *args, **kwargs):
            return view(request, self, *args, **kwargs)

        return self.admin_site.admin_view(inner)

    def staff_urls(self) -> list:
        """The directorate's pages hung on this admin (a subclass adds its own after these)."""
        return [
            path("calls/", self.staff_view(screening.call_list), name="reviews_staff_calls"),
            path("call/<int:call_id>/screening/", self.staff_view(screening.screening), name="reviews_screening"),
            path("call/<int:call_id>/screening/<int:proposal_id>/information/",
                 self.staff_view(screening.information_request), name="reviews_information_request"),
            path("call/<int:call_id>/screening/export.xlsx", self.staff_view(screening.screening_export),
                 name="reviews_screening_export"),
        ]

    def get_urls(self):
        return self.staff_urls() + super().get_urls()
