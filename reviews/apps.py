from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReviewsConfig(AppConfig):
    name = "reviews"
    verbose_name = _("Peer review")

    def ready(self):
        # roles: registers the roles the review gives (iea.roles), once models are loaded. tasks: Celery's
        # autodiscovery runs only in a worker; the web process queues the assignment job by name
        # (reviews.domain.assignment_job.RUN_TASK), so the task must be in its registry too.
        from . import (  # noqa: PLC0415 -- ready(): both import the models
            roles,  # noqa: F401
            tasks,  # noqa: F401
        )
