from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from iea.admin_mixins import ReadOnlyAdminMixin

from .models import ApiToken, User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ("email",)
    list_display = ("email", "name", "language", "is_staff", "is_active", "last_login")
    list_filter = ("is_staff", "is_superuser", "is_active", "language", "call_announcements")
    search_fields = ("email", "full_name")
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        (_("Personal information"), {"fields": ("full_name", "language", "call_announcements")}),
        (_("Permissions"), {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        (_("Dates"), {"fields": ("last_login", "date_joined")}),
    )
    # The person's own choice, changed (and audited) only from their Notifications page or an unsubscribe link.
    readonly_fields = ("call_announcements",)
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "full_name", "password1", "password2")}),)

    @admin.display(description=_("full name"), ordering="full_name")
    def name(self, user):
        return user.display_name


@admin.register(ApiToken)
class ApiTokenAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Who holds which token (never the token: only its SHA-256 is stored). People revoke their own."""

    list_display = ("name", "user", "prefix", "scopes", "created_at", "expires_at", "last_used_at", "revoked_at")
    list_filter = ("scopes",)
    search_fields = ("user__email", "name", "prefix")
    list_select_related = ("user",)
    exclude = ("digest",)
