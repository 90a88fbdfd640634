"""One JSON error format for the whole API:

    {"error": {"status": 400, "code": "invalid", "message": "…", "fields": {"title": ["…"]}}}

``message`` is for people, in the request's language; ``code`` is for programs; ``fields`` appears when
the error is about fields. Business rules refused by a domain function (``iea.errors.DomainError``) are
4xx (403 for code "forbidden", else 400) with the rule's message, never a 5xx. A bug (any other exception,
in a view or a middleware) is a 500 in the same format, from ``server_error``.
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, JsonResponse
from django.utils.translation import gettext as _
from django.views import defaults
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler


def _fields(detail) -> dict:
    if isinstance(detail, dict):
        return {key: [str(item) for item in (value if isinstance(value, list) else [value])]
                for key, value in detail.items() if key != "non_field_errors"}
    return {}


class Conflict(exceptions.APIException):
    """409: the object changed since the client read it (``lock_version``); nothing was written."""

    status_code = 409
    default_code = "conflict"

    def __init__(self, message: str, fields: dict | None = None):
        super().__init__(detail={"non_field_errors": [message], **(fields or {})}, code="conflict")


def api_exception_handler(exc, context):
    if isinstance(exc, ValidationError):
        # A rule refused (``DomainError``, or Django's own validation): 403 when the user may not, else 400.
        code = getattr(exc, "code", None) or "refused"
        if code == "forbidden":
            exc = exceptions.PermissionDenied(" ".join(exc.messages))
        else:
            exc = exceptions.ValidationError(detail={"non_field_errors": exc.messages}, code=code)
    response = exception_handler(exc, context)
    if response is None:
        return None  # a real bug: Django logs it with its traceback, then answers with ``server_error``
    detail = getattr(exc, "detail", None)
    if isinstance(exc, Http404):
        code, message = "not_found", _("Not found.")
    elif isinstance(exc, PermissionDenied):
        code, message = "permission_denied", _("You do not have permission to do this.")
    elif isinstance(detail, dict):
        codes = exc.get_codes() if hasattr(exc, "get_codes") else {}
        general = detail.get("non_field_errors")
        code = (codes.get("non_field_errors") or ["invalid"])[0] if isinstance(codes, dict) else "invalid"
        message = " ".join(str(m) for m in general) if general else _("Some fields are not valid.")
    elif isinstance(detail, list):
        code, message = "invalid", " ".join(str(m) for m in detail)
    else:
        code = exc.get_codes() if hasattr(exc, "get_codes") else "error"
        message = str(detail) if detail is not None else str(exc)
    body = {"status": response.status_code, "code": code if isinstance(code, str) else "invalid", "message": message}
    fields = _fields(detail)
    if fields:
        body["fields"] = fields
    return Response({"error": body}, status=response.status_code, headers=_headers(response))


def _headers(response) -> dict:
    return {key: value for key, value in response.items() if key in ("Retry-After", "WWW-Authenticate", "Allow")}



API_PATH_PREFIX = "/api/"


def _is_api(request) -> bool:
    return request.path_info.startswith(API_PATH_PREFIX)


def _error(status: int, code: str, message: str) -> JsonResponse:
    return JsonResponse({"error": {"status": status, "code": code, "message": message}}, status=status)


def refused(code: str, message: str) -> JsonResponse:
    """A 403 in the API's format for a request refused before any API view runs (``iea.mfa``): the same body
    a permission class's refusal gets from ``api_exception_handler``."""
    return _error(403, code, message)


def bad_request(request, exception):
    """``handler400`` (a host not allowed, a malformed request, refused before any view): the error format
    under /api/, Django's page elsewhere. So are ``handler403`` and ``handler404``: an unknown API URL is a
    JSON 404 like an unknown object."""
    if not _is_api(request):
        return defaults.bad_request(request, exception)
    return _error(400, "bad_request", _("The request is not valid."))


def permission_denied(request, exception):
    if not _is_api(request):
        return defaults.permission_denied(request, exception)
    return _error(403, "permission_denied", _("You do not have permission to do this."))


def page_not_found(request, exception):
    if not _is_api(request):
        return defaults.page_not_found(request, exception)
    return _error(404, "not_found", _("Not found."))


def server_error(request):
    """``handler500``: under /api/, the error format above; elsewhere Django's HTML page. Django has
    already logged the exception, with its traceback and the request id (``django.request``); the answer
    names only that id (also in the ``X-Request-ID`` header), never the exception's text."""
    if not _is_api(request):
        return defaults.server_error(request)
    message = _("An unexpected error occurred on the server. If it persists, report request %(request_id)s.") % {
        "request_id": getattr(request, "request_id", "?")}
    return _error(500, "server_error", message)
