"""What #20 added to the review, in the admin, read-only: the domain writes it (imports, bids, declines with a
suggestion, the officers' caps, the people's unavailability); staff look, filter and search."""

from django.contrib import admin

from iea.admin_mixins import IeaModelAdmin, ReadOnlyAdminMixin
from proposals.admin import proposal_institute_filter

from ..models import Bid, Publication, ReviewerCap, ReviewerSuggestion, Unavailability


@admin.register(Publication)
class PublicationAdmin(ReadOnlyAdminMixin, IeaModelAdmin):
    list_display = ("title", "user", "year", "venue", "source", "imported_at")
    list_filter = ("source", "year")
    list_select_related = ("user",)
    search_fields = ("title", "doi", "key", "user__email", "user__full_name")
    date_hierarchy = "imported_at"


@admin.register(Bid)
class BidAdmin(ReadOnlyAdminMixin, IeaModelAdmin):
    list_display = ("proposal", "reviewer", "value", "updated_at")
    list_filter = ("panel__call", proposal_institute_filter("proposal__"), "value")
    list_select_related = ("proposal", "reviewer__user", "reviewer__institute")
    search_fields = ("proposal__reference", "reviewer__user__email", "reviewer__user__full_name")


@admin.register(ReviewerSuggestion)
class ReviewerSuggestionAdmin(ReadOnlyAdminMixin, IeaModelAdmin):
    list_display = ("name", "email", "panel", "assignment", "created_at", "added_reviewer", "handled_at")
    list_filter = ("panel__call", "panel__institute")
    list_select_related = ("panel__call", "panel__institute", "assignment__proposal", "assignment__reviewer__user",
                           "assignment__reviewer__institute", "added_reviewer__user", "added_reviewer__institute")
    search_fields = ("name", "email", "assignment__proposal__reference")


@admin.register(ReviewerCap)
class ReviewerCapAdmin(ReadOnlyAdminMixin, IeaModelAdmin):
    list_display = ("reviewer", "panel", "max_reviews")
    list_filter = ("panel__call", "panel__institute")
    list_select_related = ("reviewer__user", "reviewer__institute", "panel__call", "panel__institute")
    search_fields = ("reviewer__user__email", "reviewer__user__full_name")


@admin.register(Unavailability)
class UnavailabilityAdmin(ReadOnlyAdminMixin, IeaModelAdmin):
    list_display = ("user", "starts_on", "ends_on", "note")
    list_select_related = ("user",)
    search_fields = ("user__email", "user__full_name")
    date_hierarchy = "starts_on"
