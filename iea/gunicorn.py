"""gunicorn's settings for the web service: ``gunicorn --config python:iea.gunicorn iea.wsgi:application …``
(docker-compose.yml, Dockerfile). gunicorn's own lines and one line per request go through the project's
logging (``LOGGING``, iea/logging.py), JSON in production: the request line has the request id (the
response's ``X-Request-ID``) and the path without its secrets, never the query string or the referrer
(either may hold a link's token). ``remote_addr`` is the connection's (nginx's, behind it); ``client_addr``
the client's as the app counts it (iea.proxies: X-Forwarded-For only from a trusted proxy)."""

import copy
import os

from django.conf import settings as django_settings
from gunicorn import glogging

from iea.logging import ACCESS_LOG_ENVIRON_KEY, REQUEST_ID_HEADER, path_without_secrets
from iea.proxies import client_address

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "iea.settings")


class Logger(glogging.Logger):
    """gunicorn's logger with one structured line per request instead of Apache's combined format."""

    def access(self, resp, req, environ, request_time):
        noted = environ.get(ACCESS_LOG_ENVIRON_KEY) or {}  # what RequestIdMiddleware left: every Django answer
        method, status = environ.get("REQUEST_METHOD"), int(str(resp.status).split(None, 1)[0])
        path = noted.get("path") or path_without_secrets(environ.get("PATH_INFO") or "/")
        duration_ms = round(request_time.total_seconds() * 1000, 1)
        request_id = next((value for name, value in resp.headers if name.lower() == REQUEST_ID_HEADER.lower()), None)
        self.access_log.info(
            "%s %s %s %s B %s ms", method, path, status, resp.sent, duration_ms,
            extra={"event": "http.access", "method": method, "path": path, "status": status, "bytes": resp.sent,
                   "duration_ms": duration_ms, "remote_addr": environ.get("REMOTE_ADDR"),
                   "client_addr": client_address(environ),
                   "user_agent": environ.get("HTTP_USER_AGENT"), "request_id": request_id,
                   "user_id": noted.get("user_id")},
        )


logger_class = Logger
# A copy: gunicorn adds its defaults to it; each worker's Django applies the setting itself again.
logconfig_dict = copy.deepcopy(django_settings.LOGGING)
