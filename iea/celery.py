"""The Celery application. Tasks are discovered in each installed app's ``tasks`` module."""

import os

from celery import Celery
from celery.signals import worker_init, worker_ready

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "iea.settings")

app = Celery("iea")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_ready.connect
def _dispatch_on_start(sender=None, **kwargs):
    """A worker that starts looks for what is due at once, rather than at the beat's next tick."""
    sender.app.send_task("iea.notifications.tasks.dispatch_due")


@worker_init.connect
def _refuse_an_unsafe_outbox_timing(sender=None, **kwargs):
    """A worker whose claims could expire while it sends would let another send the same message: it does not
    start (iea/notifications/lease.py). SystemExit, because Celery logs and ignores a handler's exceptions."""
    from iea.notifications.timing import timing_problems

    problems = timing_problems()
    if problems:
        raise SystemExit("\n".join(problems))
