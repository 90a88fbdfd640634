from django.contrib.admin.apps import AdminConfig


class BackOfficeAdminConfig(AdminConfig):
    """Django's admin app with the back office's site as ``admin.site``: every ``@admin.register`` of the apps
    registers on it, and the apps do not import the roof (settings name this class, a dotted string)."""

    default_site = "iea.site.backoffice.site.BackOfficeSite"
