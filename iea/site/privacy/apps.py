from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from iea.admin_mixins import register_action


class PrivacyConfig(AppConfig):
    name = "iea.site.privacy"
    label = "privacy"
    verbose_name = _("Personal data")

    def ready(self):
        # The calls' admin lists the anonymisation of a call's proposals past retention; calls lies below the
        # roof and cannot import it, so it is registered on the model by its label.
        from .admin_actions import anonymise_past_retention  # noqa: PLC0415 -- it imports models, loaded only now

        register_action("calls.Call", anonymise_past_retention)
