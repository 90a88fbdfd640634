from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "iea.accounts"
    label = "accounts"
    verbose_name = _("Users")

    def ready(self):
        from iea import sessions  # noqa: F401, PLC0415 -- ready(): stamps the sign-in as the session's first activity

        from . import security_log  # noqa: F401, PLC0415 -- ready(): connects the sign-in events to the logs
