from django.contrib import admin

from .models import Reviewer


@admin.register(Reviewer)
class ReviewerAdmin(admin.ModelAdmin):
    list_display = ("user", "institute", "institution", "external", "active")
    list_filter = ("institute", "external", "active")
    search_fields = ("user__email", "user__full_name", "keywords", "institution")
    list_select_related = ("user", "institute")
    autocomplete_fields = ("user",)
