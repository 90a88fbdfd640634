from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class FundingConfig(AppConfig):
    name = "funding"
    verbose_name = _("Funding")

    def ready(self):
        from . import roles  # noqa: F401, PLC0415 -- registers the role funding gives (iea.roles), once models are loaded
        from .db_guards import on_post_migrate  # noqa: PLC0415 -- ready(): the guards read the models

        post_migrate.connect(on_post_migrate, sender=self, dispatch_uid="funding.db_guards")
