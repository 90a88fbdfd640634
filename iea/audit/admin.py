from django.contrib import admin

from iea.admin_mixins import IeaModelAdmin, ReadOnlyAdminMixin

from .models import AuditEntry


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdminMixin, IeaModelAdmin):
    list_display = ("created_at", "action", "content_type", "object_id", "actor", "actor_label", "from_state", "to_state")
    list_filter = ("action", "content_type")
    search_fields = ("object_id", "actor__email", "actor_label", "reason")
    list_select_related = ("actor", "content_type")
    date_hierarchy = "created_at"



