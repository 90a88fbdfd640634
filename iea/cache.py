"""The cache, which holds the sign-in rate limits (allauth) and the API throttles (DRF).

In production it is the Redis that is also Celery's broker. Redis going away must not take sign-in, the
API and submissions down with it: the cache fails open — a read finds nothing, a write is dropped, so the
rate limits and throttles are not applied until Redis is back — and it gives up on a connection quickly.
One warning a minute says so in the log, not one per request.
"""

import logging
import sys
import time
from urllib.parse import urlsplit

import environ
from django_redis.cache import RedisCache
from django_redis.exceptions import ConnectionInterrupted

log = logging.getLogger(__name__)

# Seconds. Connecting to a Redis that is down is refused at once; these bound a host that does not answer.
CONNECT_TIMEOUT = 0.25
READ_TIMEOUT = 0.5


def cache_settings(url: str) -> dict:
    """The ``CACHES["default"]`` of ``CACHE_URL``: a redis:// URL gets the fail-open Redis cache below
    (django-environ would give Django's own RedisCache, which raises when Redis is down); anything else is
    django-environ's reading of the URL (``locmemcache://`` by default)."""
    if urlsplit(url).scheme not in ("redis", "rediss"):
        return environ.Env.cache_url_config(url)
    return {
        "BACKEND": "iea.cache.FailOpenRedisCache",
        "LOCATION": url,
        "OPTIONS": {
            "IGNORE_EXCEPTIONS": True,
            "SOCKET_CONNECT_TIMEOUT": CONNECT_TIMEOUT,
            "SOCKET_TIMEOUT": READ_TIMEOUT,
        },
    }


class _OutageLog:
    """What django-redis calls on each error it ignores (``logger.exception``): one warning per ``every``
    seconds, without the traceback."""

    def __init__(self, every: float):
        self.every, self.next_at = every, 0.0

    def exception(self, message, *args, **kwargs):
        now = time.monotonic()
        if now < self.next_at:
            return
        self.next_at = now + self.every
        error = sys.exc_info()[1]
        cause = getattr(error, "__cause__", None) or error
        log.warning("cache: Redis is unreachable (%s); sign-in rate limits and API throttles are off until it "
                    "is back", cause)


class FailOpenRedisCache(RedisCache):
    """django-redis with ``IGNORE_EXCEPTIONS`` (set by ``cache_settings``), its ignored errors logged by
    ``_OutageLog``.

    ``add`` says it stored the value when Redis is away (django-redis would answer None, "already there"):
    allauth takes a lock with ``add`` around each rate limit and answers 429 when it cannot, and it records
    used two-factor codes and single sign-on tokens with ``add``, refusing them when it cannot. Failing open
    there too keeps everyone able to sign in; what is lost meanwhile is the refusal of a code or token
    replayed within its few seconds of validity, like the rate limits.
    """

    def __init__(self, server, params):
        super().__init__(server, params)
        self._log_ignored_exceptions = True
        self.logger = _OutageLog(every=60)

    def add(self, *args, **kwargs):
        try:
            return self.client.add(*args, **kwargs)
        except ConnectionInterrupted:
            self.logger.exception("Exception ignored")
            return True
