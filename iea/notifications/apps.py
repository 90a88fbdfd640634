from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "iea.notifications"
    label = "notifications"
    verbose_name = _("Notifications")

    def ready(self):
        # Each app declares its kinds of message and its reminder schedules in ``<app>/notifications.py``.
        autodiscover_modules("notifications")
        from django.core import checks

        from .timing import check_timing

        checks.register(check_timing, "notifications")
