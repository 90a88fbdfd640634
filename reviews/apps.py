from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReviewsConfig(AppConfig):
    name = "reviews"
    verbose_name = _("Peer review")

    def ready(self):
        from . import roles  # noqa: F401, PLC0415 -- registers the roles the review gives (iea.roles), once models are loaded
