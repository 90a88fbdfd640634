"""The Celery application. Tasks are discovered in each installed app's ``tasks`` module."""

import logging
import logging.config
import os

from celery import Celery
from celery.signals import celeryd_init, worker_init, worker_ready
from django.conf import settings

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "iea.settings")

app = Celery("iea")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_ready.connect
def _dispatch_on_start(sender=None, **kwargs):
    """A worker that starts looks for what is due at once, rather than at the beat's next tick."""
    sender.app.send_task("iea.notifications.tasks.dispatch_due")


def _say_as_a_log_line(msg, f=None):
    logging.getLogger("celery.apps.worker").info("%s", str(msg).strip())


@celeryd_init.connect
def _log_from_the_first_line(**kwargs):
    """The worker warns (running as root, a setting renamed) before Django is set up, and prints its shutdown
    and restart lines straight to the terminal: both go through the project's handler (JSON in production)
    instead. The command leaves the banner out (``celery --quiet``)."""
    import celery.apps.worker  # noqa: PLC0415 -- only a worker needs it

    logging.config.dictConfig(settings.LOGGING)
    celery.apps.worker.safe_say = _say_as_a_log_line


@worker_init.connect
def _refuse_an_unsafe_outbox_timing(sender=None, **kwargs):
    """A worker whose claims could expire while it sends would let another send the same message: it does not
    start (iea/notifications/lease.py). SystemExit, because Celery logs and ignores a handler's exceptions."""
    from iea.notifications.timing import timing_problems  # noqa: PLC0415 -- settings are read in the worker, not at import

    problems = timing_problems()
    if problems:
        raise SystemExit("\n".join(problems))
