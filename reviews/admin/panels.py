"""The pools and the panels in the admin: staff set up a call's review in each institute here."""

from django.contrib import admin
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from iea.admin_mixins import IeaModelAdmin
from iea.audit.domain import audit_record

from ..domain.affinities import affinities_invalidate
from ..models import Panel, Reviewer


@admin.register(Reviewer)
class ReviewerAdmin(IeaModelAdmin):
    """A person in an institute's pool. The institute is fixed once they are in it: their assignments and
    reviews belong to its panels, whose figures (``reviews.domain.panel_figures``) count them there."""

    list_display = ("user", "institute", "institution", "external", "active")
    list_filter = ("institute", "external", "active")
    search_fields = ("user__email", "user__full_name", "keywords", "institution")
    list_select_related = ("user", "institute")
    autocomplete_fields = ("user", "unit")  # over a thousand units: searched (calls.admin.UnitAdmin), not listed

    def get_readonly_fields(self, request, obj=None):
        return ("institute",) if obj is not None else ()

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        # What the affinities of the institute's panels are computed from: the pool and its keywords.
        if not change or {"keywords", "active"} & set(form.changed_data):
            affinities_invalidate(institute_id=obj.institute_id)


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
