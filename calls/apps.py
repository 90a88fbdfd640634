from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CallsConfig(AppConfig):
    name = "calls"
    verbose_name = _("Calls and reference data")

    def ready(self):
        from . import roles  # noqa: F401, PLC0415 -- registers the roles calls gives (iea.roles), once models are loaded
