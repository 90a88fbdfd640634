from django.contrib import admin

from .models import AuditEntry


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    list_display = ("created_at", "action", "content_type", "object_id", "actor", "actor_label", "from_state", "to_state")
    list_filter = ("action", "content_type")
    search_fields = ("object_id", "actor__email", "actor_label", "reason")
    list_select_related = ("actor", "content_type")
    date_hierarchy = "created_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
