"""The outbox's timing rule (lease.py explains it), checked where the processes start: Django's system
checks and the Celery worker's start (iea/celery.py). Settings only: no models, so a worker checks it before
Django is set up."""

from django.conf import settings
from django.core import checks


def send_bound() -> float:
    """Seconds a send may take at most, after the lease allowed it (its SMTP waits, not counting margin)."""
    return float(settings.EMAIL_TIMEOUT or 0)


def timing_problems(values: dict | None = None, email_timeout: float | None = None) -> list[str]:
    """What is wrong with the outbox's timing (empty when nothing): see the module's inequality."""
    values = settings.NOTIFICATIONS if values is None else values
    email_timeout = settings.EMAIL_TIMEOUT if email_timeout is None else email_timeout
    if not email_timeout:
        return ["EMAIL_TIMEOUT must be set: without it a hung SMTP server holds a message past its claim, and "
                "another worker would send it again."]
    total = values["HEARTBEAT"] + email_timeout + values["CLAIM_MARGIN"]
    if total >= values["CLAIM_TIMEOUT"]:
        return [f"NOTIFICATIONS_HEARTBEAT + EMAIL_TIMEOUT + NOTIFICATIONS_CLAIM_MARGIN ({values['HEARTBEAT']} + "
                f"{email_timeout} + {values['CLAIM_MARGIN']} = {total} s) must be less than "
                f"NOTIFICATIONS_CLAIM_TIMEOUT ({values['CLAIM_TIMEOUT']} s), or a message could be sent twice."]
    return []


def check_timing(app_configs=None, **kwargs):
    """Django's system check (registered by the app)."""
    return [checks.Error(problem, id="notifications.E001") for problem in timing_problems()]
