from allauth.socialaccount.models import SocialAccount, SocialApp, SocialToken
from django import forms
from django.conf import settings
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.models import Group
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from iea.admin_mixins import IeaModelAdmin, LabelledWidgetsMixin, ReadOnlyAdminMixin

from .models import ApiToken, User

# Django stores a permission's name in English when it migrates ("Can add conflict of interest"); the lists of
# the user and group pages name it in the reader's language instead, from the model's verbose name.
PERMISSION_ACTIONS = {"add": _("Can add"), "change": _("Can change"), "delete": _("Can delete"), "view": _("Can view")}


class PermissionChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, permission):
        action, _separator, model = permission.codename.partition("_")
        model_class = permission.content_type.model_class()
        if action not in PERMISSION_ACTIONS or model_class is None or model != model_class._meta.model_name:
            return str(permission)  # a permission of its own (Meta.permissions): its name as written
        opts = model_class._meta
        return f"{capfirst(opts.app_config.verbose_name)} | {capfirst(opts.verbose_name)} | {PERMISSION_ACTIONS[action]}"


class PermissionLabelsMixin:
    permission_fields = ("permissions", "user_permissions")

    def formfield_for_manytomany(self, db_field, request=None, **kwargs):
        if db_field.name in self.permission_fields:
            kwargs["form_class"] = PermissionChoiceField
            kwargs["queryset"] = kwargs.get("queryset", db_field.remote_field.model.objects).select_related("content_type")
            if db_field.name == "permissions":
                kwargs["label"] = _("Permissions")  # the word of the user page's section ("Autorisations")
        return super().formfield_for_manytomany(db_field, request, **kwargs)


@admin.register(User)
class UserAdmin(PermissionLabelsMixin, LabelledWidgetsMixin, BaseUserAdmin):
    ordering = ("email",)
    list_display = ("email", "name", "language", "is_staff", "is_active", "last_login")
    list_filter = ("is_staff", "is_superuser", "is_active", "language", "call_announcements")
    search_fields = ("email", "full_name")
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        (_("Personal information"), {"fields": ("first_name", "last_name", "language", "call_announcements")}),
        (_("Permissions"), {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        (_("Dates"), {"fields": ("last_login", "date_joined")}),
    )
    # The person's own choice, changed (and audited) only from their Notifications page or an unsubscribe link.
    readonly_fields = ("call_announcements",)
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "first_name", "last_name", "password1", "password2")}),)

    @admin.display(description=_("name"), ordering="full_name")
    def name(self, user):
        return user.display_name if user.has_name else "—"


@admin.register(ApiToken)
class ApiTokenAdmin(ReadOnlyAdminMixin, IeaModelAdmin):
    """Who holds which token (never the token: only its SHA-256 is stored). People revoke their own."""

    list_display = ("name", "user", "prefix", "scopes", "created_at", "expires_at", "last_used_at", "revoked_at")
    list_filter = ("scopes",)
    search_fields = ("user__email", "name", "prefix")
    list_select_related = ("user",)
    exclude = ("digest",)


# --- The admins of the libraries (auth's groups, allauth's addresses, authenticators, social accounts) -----------
# Registered before this module (INSTALLED_APPS order); given the platform's labelled widgets here.

SSO_MODELS = (SocialApp, SocialToken, SocialAccount)


def adopt_library_admins(site, *, providers: dict) -> None:
    """Every library admin of ``site`` gets the platform's labelled widgets; the social-account tables leave the
    admin when no single sign-on provider is configured (``iea.sso``): there is nothing to look at or set up."""
    if not providers:
        for model in SSO_MODELS:
            if site.is_registered(model):
                site.unregister(model)
    for model, model_admin in list(site._registry.items()):
        admin_class = type(model_admin)
        wanted = (PermissionLabelsMixin, LabelledWidgetsMixin) if model is Group else (LabelledWidgetsMixin,)
        missing = tuple(mixin for mixin in wanted if not issubclass(admin_class, mixin))
        if missing:
            site.unregister(model)
            site.register(model, type(admin_class.__name__, (*missing, admin_class), {}))

adopt_library_admins(admin.site, providers=settings.SOCIALACCOUNT_PROVIDERS)
