"""Health endpoints for the container platform and the proxy, answered before anything else runs (no host
check, no session, no redirect to HTTPS), so a probe on 127.0.0.1 works whatever ALLOWED_HOSTS says:

- ``/healthz``: the process is alive (it answers; nothing else is asked);
- ``/readyz``: it can serve — the database answers, the Celery broker (Redis) answers, the file storage is
  reachable. 503 with the failing parts otherwise. No detail of an error is shown (it could name hosts).
"""

import logging
import os

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import connections
from django.http import JsonResponse

from iea.celery import app

logger = logging.getLogger("iea.health")


def _database() -> None:
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT 1")


def _broker() -> None:
    url = settings.CELERY_BROKER_URL
    if url.startswith("memory://") or settings.CELERY_TASK_ALWAYS_EAGER:
        return  # no broker: tasks run in the request (the embedded default and the tests)
    if url.startswith("filesystem://"):
        folder = settings.CELERY_BROKER_TRANSPORT_OPTIONS["data_folder_in"]
        if not os.access(folder, os.W_OK):
            raise OSError("broker folder not writable")
        return
    with app.connection_for_write(url=url) as connection:
        connection.ensure_connection(max_retries=1, timeout=2)


def _storage() -> None:
    location = getattr(default_storage, "location", None)
    if location is not None and not getattr(default_storage, "bucket_name", None):
        os.makedirs(location, exist_ok=True)  # created on first upload otherwise; a fresh install is ready
        if not os.access(location, os.W_OK):
            raise OSError("storage folder not writable")
        return
    default_storage.exists("readyz-probe")  # one HEAD request on S3-compatible storage


CHECKS = {"database": _database, "broker": _broker, "storage": _storage}


def readiness() -> dict[str, str]:
    results = {}
    for name, check in CHECKS.items():
        try:
            check()
        except Exception:  # any failure means "not ready"; the log has the detail, the answer does not
            logger.exception("readiness check failed: %s", name)
            results[name] = "unreachable"
        else:
            results[name] = "ok"
    return results


class HealthCheckMiddleware:
    """First in MIDDLEWARE: answers the probes before the host check and the HTTPS redirect."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path == "/healthz":
            return JsonResponse({"status": "ok"})
        if request.path == "/readyz":
            results = readiness()
            ready = all(value == "ok" for value in results.values())
            return JsonResponse({"status": "ok" if ready else "unavailable", **results}, status=200 if ready else 503)
        return self.get_response(request)
