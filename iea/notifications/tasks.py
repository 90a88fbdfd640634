"""Thin tasks: the beat's tick, and sending a batch of recorded messages (ids in).

Each name is pinned: queued messages, ``CELERY_BEAT_SCHEDULE`` and ``domain.SEND_TASK`` call the tasks by
name, so moving this module must not rename them.
"""

import datetime as dt

from celery import shared_task
from django.utils import timezone

from . import domain


@shared_task(name="iea.notifications.tasks.dispatch_due", ignore_result=True)
def dispatch_due(now: str | None = None) -> dict:
    """Celery beat runs this every ``NOTIFICATIONS_TICK`` seconds. ``now`` (ISO 8601) is for tests."""
    result = domain.dispatch(now=dt.datetime.fromisoformat(now) if now else timezone.now())
    return {"recorded": result.recorded, "queued": result.queued}


@shared_task(name="iea.notifications.tasks.send_notifications", ignore_result=True)
def send_notifications(ids: list[int]) -> dict:
    result = domain.deliver(ids)
    if result.retry_in is not None:
        # The rows wait in the database; this only wakes a worker when their backoff ends (the
        # dispatcher would find them anyway).
        send_notifications.apply_async((ids,), countdown=result.retry_in.total_seconds())
    return {"sent": result.sent, "skipped": result.skipped, "retrying": result.retrying, "failed": result.failed}
