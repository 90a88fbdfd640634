"""Shared admin pieces."""


class ReadOnlyAdminMixin:
    """Staff may look, never add, change or delete: records that only domain functions write
    (audit entries, deadline changes, invitations, frozen versions)."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
