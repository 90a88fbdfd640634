"""The app's production settings (DEBUG=0 from the environment), for a benchmark served over plain HTTP on
loopback: no HTTPS redirect, no secure-only cookies, no HSTS; and the bare view's URLs beside the app's."""

from iea.settings import *  # noqa: F403

ROOT_URLCONF = "benchmarks.bench_urls"
SECURE_SSL_REDIRECT = False
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
SECURE_HSTS_SECONDS = 0
