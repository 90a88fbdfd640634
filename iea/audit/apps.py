from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    name = "iea.audit"
    label = "audit"
    verbose_name = _("Audit trail")

    def ready(self):
        # Each app labels the actions it records in ``<app>/audit_actions.py`` (iea/audit/actions.py).
        autodiscover_modules("audit_actions")
