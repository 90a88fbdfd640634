"""Logs an operator can follow from one request to the next: every line carries the request id and the
signed-in user's id, as JSON in production (``LOG_FORMAT=json``) or plain text on a laptop.

The request id comes from nginx (``X-Request-ID``) when it looks like one, else is made here; it goes back
in the response's ``X-Request-ID`` header, so a user's report ("request 3f2a…") finds its lines. A Celery
task logs with the id of the request that queued it (a message header), else with its own task id.

Refused accesses are logged here, once each (``iea.security``, event "access.refused"); the sign-in
events are in ``iea.accounts.security_log``. No line ever holds a password, a token, a session id, a
request body or a file's content: paths lose the secret part of links such as a partner's invitation.

The ``LOGGING`` setting imports this module (its filter and formatter) in every process, web and worker,
before the apps are loaded: it imports no model. gunicorn logs through the same handler (``iea/gunicorn.py``),
and so does everything the Celery worker prints itself: one line per event, even a Python warning.
"""

import contextvars
import datetime as dt
import logging
import re
import uuid
from dataclasses import dataclass

from celery.signals import before_task_publish, task_postrun, task_prerun
from django.http import Http404, HttpRequest
from django.urls import resolve
from django.utils.functional import LazyObject, empty
from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter as BaseJsonFormatter

security_log = logging.getLogger("iea.security")

REQUEST_ID_HEADER = "X-Request-ID"
TASK_HEADER = "iea_request_id"
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
# URL arguments that are secrets (invitation and co-signature links, calendar feeds, allauth's keys).
SECRET_URL_KWARGS = frozenset({"token", "key", "uidb36", "uidb64"})
REFUSED_STATUSES = frozenset({401, 403})
# What the request left for gunicorn's access line (iea/gunicorn.py), in the WSGI environ both share.
ACCESS_LOG_ENVIRON_KEY = "iea.access_log"

# Django no longer routes Python's warnings to logging: without this, a warning (a missing static
# directory, a deprecation) would be a few plain lines in the middle of the JSON ones.
logging.captureWarnings(True)


@dataclass(frozen=True)
class LogContext:
    request_id: str
    request: HttpRequest | None = None


_context: contextvars.ContextVar[LogContext | None] = contextvars.ContextVar("iea_log_context", default=None)


def current_request_id() -> str | None:
    context = _context.get()
    return context.request_id if context else None


def request_id_from_header(value: str | None) -> str:
    """The proxy's id when it is sane (nginx's ``$request_id`` is 32 hex digits), else a new one."""
    if value and _SANE_REQUEST_ID.fullmatch(value):
        return value
    return uuid.uuid4().hex


def _known_user_id(request: HttpRequest | None) -> int | None:
    """The signed-in user's id if the request already knows its user; never a query just to log."""
    user = request.__dict__.get("user") if request is not None else None
    if isinstance(user, LazyObject):
        if user._wrapped is empty:
            return None
        user = user._wrapped
    return user.pk if getattr(user, "is_authenticated", False) else None


def _masked(path: str, url_kwargs: dict) -> str:
    for name, value in url_kwargs.items():
        if name in SECRET_URL_KWARGS and value:
            path = path.replace(str(value), "…")
    return path


def safe_path(request: HttpRequest) -> str:
    """The path with the secret parts of the URL (an invitation token, a reset key) replaced by "…"."""
    match = getattr(request, "resolver_match", None)
    return _masked(request.path, match.kwargs if match else {})


def path_without_secrets(path: str) -> str:
    """``safe_path`` for a path no request resolved (gunicorn's line for an answer Django did not give)."""
    try:
        match = resolve(path)
    except Http404:
        return path  # no view, so no secret in it
    return _masked(path, match.kwargs)


class RequestContextFilter(logging.Filter):
    """Adds ``request_id`` and ``user_id`` to every record (a record may bring its own ``user_id``), and
    takes the secrets out of the paths Django's request loggers print."""

    def filter(self, record: logging.LogRecord) -> bool:
        context = _context.get()
        request = getattr(record, "request", None)
        if isinstance(request, HttpRequest) and hasattr(request, "request_id"):
            # django.request logs a response once the middleware has returned, out of the request's context.
            context = LogContext(request_id=request.request_id, request=request)
        if not hasattr(record, "request_id"):
            record.request_id = context.request_id if context else None
        if not hasattr(record, "user_id"):
            record.user_id = _known_user_id(context.request if context else None)
        if isinstance(request, HttpRequest) and isinstance(record.args, tuple):
            raw, safe = request.path.encode("unicode_escape").decode("ascii"), safe_path(request)
            if raw != safe:
                record.args = tuple(safe if arg in (raw, request.path) else arg for arg in record.args)
        return True


class JsonFormatter(BaseJsonFormatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message, request_id, user_id, then
    the event's own fields. The request object Django's loggers attach is never serialised (its text
    holds the query string)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("fmt", ["levelname", "name", "message", "request_id", "user_id"])
        kwargs.setdefault("rename_fields", {"levelname": "level", "name": "logger"})
        kwargs.setdefault("reserved_attrs", [*RESERVED_ATTRS, "request", "server_time"])
        super().__init__(*args, **kwargs)

    def add_fields(self, log_data, record, message_dict):
        log_data["time"] = dt.datetime.fromtimestamp(record.created, tz=dt.UTC).isoformat(timespec="milliseconds")
        super().add_fields(log_data, record, message_dict)


class RequestIdMiddleware:
    """Gives each request its id (see the module's docstring) and logs every refused access (401, 403:
    a ``PermissionDenied``, a rule's refusal, an API token refused) once, here."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request_id = request.request_id = request_id_from_header(request.headers.get(REQUEST_ID_HEADER))
        token = _context.set(LogContext(request_id=request_id, request=request))
        try:
            response = self.get_response(request)
            if response.status_code in REFUSED_STATUSES:
                _access_refused(request, response.status_code)
        finally:
            _context.reset(token)
        response.headers[REQUEST_ID_HEADER] = request_id
        environ = getattr(request, "environ", None)
        if environ is not None:
            environ[ACCESS_LOG_ENVIRON_KEY] = {"path": safe_path(request), "user_id": _known_user_id(request)}
        return response


def _access_refused(request: HttpRequest, status: int) -> None:
    user = getattr(request, "user", None)  # a refusal is rare: resolving the user here is worth a query
    match = getattr(request, "resolver_match", None)
    security_log.warning(
        "access refused: %s %s %s", status, request.method, safe_path(request),
        extra={"event": "access.refused", "status": status, "method": request.method, "path": safe_path(request),
               "view": match.view_name if match else None,
               "user_id": user.pk if getattr(user, "is_authenticated", False) else None},
    )


# Celery: the request id travels with the task as a message header. Tasks run eagerly (no broker) are
# already inside the request's context; a worker without the header uses the task's own id.
@before_task_publish.connect(dispatch_uid="iea.logging.task_publish")
def _stamp_task(headers=None, **kwargs):
    request_id = current_request_id()
    if request_id and headers is not None:
        headers.setdefault(TASK_HEADER, request_id)


_task_tokens: dict[str, contextvars.Token] = {}


@task_prerun.connect(dispatch_uid="iea.logging.task_prerun")
def _enter_task(task_id=None, task=None, **kwargs):
    given = task.request.get(TASK_HEADER) or (task.request.get("headers") or {}).get(TASK_HEADER)
    if given is None and _context.get() is not None:
        return  # run eagerly, inside the request that queued it
    request_id = given if given and _SANE_REQUEST_ID.fullmatch(str(given)) else task_id
    _task_tokens[task_id] = _context.set(LogContext(request_id=request_id))


@task_postrun.connect(dispatch_uid="iea.logging.task_postrun")
def _leave_task(task_id=None, **kwargs):
    token = _task_tokens.pop(task_id, None)
    if token is not None:
        _context.reset(token)
