"""The review in the Django admin. Staff set up reviewer pools and panels here and may look at every
record of the review; conflicts, assignments, reviews, recommendations and decisions are written only by
``reviews.domain``, so their admins are read-only. The directorate's screening and decision pages are
custom views (``reviews.staff_views``) hung on the decision admin."""

from django.contrib import admin
from django.contrib.auth import get_permission_codename
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from iea.admin_mixins import IeaModelAdmin, ReadOnlyAdminMixin, ReadOnlyTabularInline
from iea.audit.domain import audit_record
from proposals.admin import proposal_institute_filter

from . import staff_reserve, staff_views
from .models import Assignment, Conflict, Decision, Panel, PanelRecommendation, Review, Reviewer, Score


@admin.register(Reviewer)
class ReviewerAdmin(IeaModelAdmin):
    list_display = ("user", "institute", "institution", "external", "active")
    list_filter = ("institute", "external", "active")
    search_fields = ("user__email", "user__full_name", "keywords", "institution")
    list_select_related = ("user", "institute")
    autocomplete_fields = ("user",)


@admin.register(Panel)
class PanelAdmin(IeaModelAdmin):
    """A call's review inside one institute: its officers, how many reviews each proposal needs, and
    when reviews are due. The call and institute are fixed once the panel exists: its assignments and
    recommendations belong to them."""

    list_display = ("call", "institute", "officer_list", "reviews_per_proposal", "review_due_at")
    list_filter = ("call", "institute")
    list_select_related = ("call", "institute")
    search_fields = ("institute__code", "institute__usage_name", "officers__email", "officers__full_name")
    autocomplete_fields = ("officers",)
    fields = ("call", "institute", "officers", "reviews_per_proposal", "review_due_at")

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("officers")

    def get_readonly_fields(self, request, obj=None):
        return ("call", "institute") if obj is not None else ()

    @admin.display(description=_("officers"))
    def officer_list(self, obj):
        return ", ".join(officer.display_name for officer in obj.officers.all()) or "—"

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        if not change or form.changed_data:
            audit_record(
                actor=request.user, target=form.instance, action="panel.update" if change else "panel.create",
                now=timezone.now(), data={"changed": sorted(form.changed_data)},
            )


@admin.register(Conflict)
class ConflictAdmin(ReadOnlyAdminMixin, IeaModelAdmin):
    list_display = ("proposal", "reviewer", "source", "cause", "created_at")
    list_filter = ("proposal__call", proposal_institute_filter("proposal__"), "source")
    list_select_related = ("proposal", "reviewer__user", "reviewer__institute")
    search_fields = ("proposal__reference", "reviewer__user__email", "reviewer__user__full_name", "cause")
    date_hierarchy = "created_at"


@admin.register(Assignment)
class AssignmentAdmin(ReadOnlyAdminMixin, IeaModelAdmin):
    list_display = ("proposal", "reviewer", "panel", "state", "due_at", "automatic", "responded_at")
    list_filter = ("panel__call", "panel__institute", "state", "automatic")
    list_select_related = ("proposal", "reviewer__user", "reviewer__institute", "panel__call", "panel__institute")
    search_fields = ("proposal__reference", "proposal__acronym", "reviewer__user__email", "reviewer__user__full_name")


class ScoreInline(ReadOnlyTabularInline):
    model = Score
    fields = ("criterion", "score", "max_score", "comment")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("criterion")


@admin.register(Review)
class ReviewAdmin(ReadOnlyAdminMixin, IeaModelAdmin):
    list_display = ("proposal", "reviewer", "state", "recommendation", "submitted_at")
    list_filter = ("proposal__call", proposal_institute_filter("proposal__"), "state", "recommendation")
    list_select_related = ("proposal", "reviewer__user", "reviewer__institute")
    search_fields = ("proposal__reference", "proposal__acronym", "reviewer__user__email", "reviewer__user__full_name")
    inlines = (ScoreInline,)
    fields = ("proposal", "reviewer", "assignment", "state", "recommendation", "comment_for_pi",
              "confidential_comment", "created_at", "updated_at", "submitted_at")


@admin.register(PanelRecommendation)
class PanelRecommendationAdmin(ReadOnlyAdminMixin, IeaModelAdmin):
    list_display = ("proposal", "panel", "rank", "recommendation", "proposed_amount", "updated_at")
    list_filter = ("panel__call", "panel__institute", "recommendation")
    list_select_related = ("proposal", "panel__call", "panel__institute")
    search_fields = ("proposal__reference", "proposal__acronym", "proposal__title")
    ordering = ("panel", "rank")


@admin.register(Decision)
class DecisionAdmin(ReadOnlyAdminMixin, IeaModelAdmin):
    """The decisions, read-only; they are taken on the "Decisions" page of each call (``staff_views``),
    which also holds the screening page."""

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

    def has_decide_permission(self, request) -> bool:
        """Taking decisions is a change of decisions, as the model permission says: the list itself is
        read-only, since only ``reviews.domain.decisions`` writes them."""
        opts = self.opts
        return request.user.has_perm(f"{opts.app_label}.{get_permission_codename('change', opts)}")

    def has_screen_permission(self, request) -> bool:
        """Screening changes the proposal's state: the proposal's change permission."""
        from proposals.models import Proposal

        opts = Proposal._meta
        return request.user.has_perm(f"{opts.app_label}.{get_permission_codename('change', opts)}")

    def get_urls(self):
        def wrap(view):
            def inner(request, *args, **kwargs):
                return view(request, self, *args, **kwargs)

            return self.admin_site.admin_view(inner)

        own = [
            path("calls/", wrap(staff_views.call_list), name="reviews_staff_calls"),
            path("call/<int:call_id>/screening/", wrap(staff_views.screening), name="reviews_screening"),
            path("call/<int:call_id>/decisions/", wrap(staff_views.decisions), name="reviews_decisions"),
            path("call/<int:call_id>/decisions/notify/", wrap(staff_views.decisions_notify_confirm),
                 name="reviews_decisions_notify"),
            path("call/<int:call_id>/decisions/<int:proposal_id>/promote/", wrap(staff_reserve.promote),
                 name="reviews_promote"),
            path("proposal/<int:proposal_id>/evaluation-summary.pdf", wrap(staff_views.evaluation_summary),
                 name="reviews_evaluation_summary"),
        ]
        return own + super().get_urls()
