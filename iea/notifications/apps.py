from django.apps import AppConfig
from django.core import checks
from django.utils.module_loading import autodiscover_modules
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "iea.notifications"
    label = "notifications"
    verbose_name = _("Notifications")

    def ready(self):
        # Each app declares its kinds of message and its reminder schedules in ``<app>/notifications.py``.
        autodiscover_modules("notifications")
        from .timing import check_timing  # noqa: PLC0415 -- ready(): timing reads the settings the checks check

        checks.register(check_timing, "notifications")
        # Celery's autodiscovery runs only in a worker; a web process queues by name too (domain.SEND_TASK),
        # so the tasks must be in its registry. Here, because they import the models.
        from . import tasks  # noqa: F401, PLC0415 -- ready(): the models are loaded only now
