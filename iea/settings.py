"""The one settings module. Every value has an embedded default that runs on a laptop (SQLite, no Redis,
mail to the console); production overrides them from the environment (see README, "Configuration").

DEBUG=0 switches on the production hardening below.
"""

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=True)
SECRET_KEY = env.str("SECRET_KEY", default="insecure-development-key-change-me" if DEBUG else environ.Env.NOTSET)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])


def _origin(url: str) -> str:
    """``url`` without the scheme's default port, as browsers write it: docker-compose.yml always names the
    port (HTTPS_PORT, 443 by default), the Origin header and the links in mails do not when it is 443."""
    for scheme, port in (("https://", ":443"), ("http://", ":80")):
        if url.startswith(scheme):
            host, slash, rest = url[len(scheme):].partition("/")
            return scheme + host.removesuffix(port) + slash + rest
    return url


CSRF_TRUSTED_ORIGINS = [_origin(url) for url in env.list("CSRF_TRUSTED_ORIGINS", default=[])]
SITE_NAME = "IEA · CNRS"  # the platform's name in account mail (iea.accounts.adapter.platform_site)
SITE_URL = _origin(env.str("SITE_URL", default="http://127.0.0.1:8000")).rstrip("/")

INSTALLED_APPS = [
    "iea.site.backoffice.apps.BackOfficeAdminConfig",  # Django's admin, as the back office (iea/site/backoffice)
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "allauth",
    "iea.library_apps.EmailAddressesConfig",  # allauth.account, allauth.mfa, allauth.socialaccount named
    "iea.library_apps.TwoFactorConfig",  # in the platform's words in the admin (iea/library_apps.py)
    "iea.library_apps.ExternalSignInConfig",
    "allauth.socialaccount.providers.saml",
    "allauth.socialaccount.providers.openid_connect",
    "django_countries",
    "django_htmx",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "rules.apps.AutodiscoverRulesConfig",
    "iea",  # its management commands: backup, restore (iea/management)
    "iea.accounts",
    "iea.audit",
    "iea.notifications",
    "iea.site.privacy",
    "calls",
    "proposals",
    "reviews",
    "funding",
    "iea.site.demo",  # the roof's demo seed: manage.py seed_demo, demo_totp
]

MIDDLEWARE = [
    "iea.logging.RequestIdMiddleware",  # first: every line of the request, and every answer, has its id
    "iea.health.HealthCheckMiddleware",  # /healthz, /readyz: before the host check and the HTTPS redirect
    "django.middleware.security.SecurityMiddleware",
    # Every answer, static files included: the browser features below are off (iea.headers, issue #16).
    "django_permissions_policy.PermissionsPolicyMiddleware",
    "iea.headers.PrivateAnswersNotStoredMiddleware",  # signed-in pages and the API: Cache-Control no-store
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "iea.sessions.SessionIdleTimeoutMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "iea.middleware.ContentSecurityPolicyMiddleware",
    "iea.middleware.TwoFactorMiddleware",  # after the user and htmx are known; last, so its answers get the headers above
]

ROOT_URLCONF = "iea.urls"
# Django's form renderer, the widgets, labels and error lists written in Python (iea.widgets).
FORM_RENDERER = "iea.widgets.FormRenderer"
WSGI_APPLICATION = "iea.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "iea.context_processors.navigation",
            ],
        },
    }
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'var' / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL and a busy timeout let the dev server, the worker and the tests write without "database is locked".
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"}
    )
    # A file, not memory, so threads in tests (a Celery worker, concurrent submits) share the test database.
    DATABASES["default"]["TEST"] = {"NAME": env.str("SQLITE_TEST_NAME", default=str(BASE_DIR / "var" / "test.sqlite3"))}
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "rules.permissions.ObjectPermissionBackend",
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "dashboard"

# django-allauth: e-mail is the login, verified before first sign-in; login attempts rate limited.
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
# The client's address behind a proxy (iea.proxies): X-Forwarded-For is read only from these addresses or
# networks (docker-compose.yml: nginx's address); empty, no forwarded header is believed.
from iea.proxies import trusted_networks as _trusted_networks  # noqa: E402  (kept inside this block)

TRUSTED_PROXIES = env.list("TRUSTED_PROXIES", default=[])
_trusted_networks(tuple(TRUSTED_PROXIES))  # a wrong entry stops the app here, not at the first sign-in
# Every "ip" below is the client's address (AccountAdapter.get_client_ip). A failed sign-in's "key" is the
# account and the address together (AccountAdapter._get_login_attempts_cache_key): wrong passwords typed
# elsewhere never lock a person out of their account (README, "Sign-in limits").
ACCOUNT_RATE_LIMITS = {
    "login": "30/m/ip",
    "login_failed": "10/m/ip,5/5m/key",
    "signup": "20/m/ip",
    # Per address, and per e-mail address so that nobody floods a mailbox; a refused request locks no one
    # out, since every mail that went out holds a working link.
    "reset_password": "20/m/ip,5/m/key",
    "confirm_email": "1/3m/key",
}
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[IEA] "
ACCOUNT_ADAPTER = "iea.accounts.adapter.AccountAdapter"
ACCOUNT_FORMS = {"signup": "iea.accounts.forms.SignupForm"}  # asks the first and last name too
ACCOUNT_PRESERVE_USERNAME_CASING = False
# Two-factor authentication (TOTP with recovery codes), required of reviewers, officers and staff
# before they see any proposal (iea.mfa).
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = env.str("MFA_TOTP_ISSUER", default="IEA")
# A code typed in the last second of its 30-second step is still accepted in the next one (RFC 6238, 5.2:
# one step of delay). A code already used is refused all the same (allauth remembers it).
MFA_TOTP_TOLERANCE = 1

# --- Single sign-on (Janus SAML, OpenID Connect) ---
# Janus (the CNRS SAML identity provider, RENATER) and one OpenID Connect provider, from the environment
# (iea.sso; README, "Single sign-on"). Nothing configured: no button, no provider. A sign-in whose address
# the provider vouches for opens the account with that address and connects the provider to it; anyone
# else gets a new account (e-mail and name, no password). Two-factor authentication still follows.
from iea import sso as _sso  # noqa: E402  (kept inside this block)

SOCIALACCOUNT_PROVIDERS = _sso.social_providers(env, site_url=SITE_URL)
SOCIALACCOUNT_ADAPTER = "iea.accounts.adapter.SocialAccountAdapter"
SOCIALACCOUNT_EMAIL_AUTHENTICATION = True
SOCIALACCOUNT_EMAIL_AUTHENTICATION_AUTO_CONNECT = True
SOCIALACCOUNT_AUTO_SIGNUP = True
SOCIALACCOUNT_LOGIN_ON_GET = False  # a sign-in starts with a POST from the sign-in page, never a link
# The sign-in buttons post to allauth, which redirects to the provider: the CSP's form-action allows it.
CSP_FORM_ACTION = [*_sso.form_action_origins(SOCIALACCOUNT_PROVIDERS), *env.list("CSP_FORM_ACTION_EXTRA", default=[])]
# --- end of single sign-on ---

LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", _("French")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "var" / "static")
STATICFILES_DIRS = [BASE_DIR / "static"]
# Uploaded files are private: they live outside the web root and are served only by views that check access.
MEDIA_ROOT = env.path("PRIVATE_MEDIA_ROOT", default=BASE_DIR / "var" / "private")
# --- File storage: private, always behind the app's permission check ---
# The local filesystem by default; S3-compatible object storage when S3_BUCKET is set (django-storages),
# private objects handed out as short-lived signed URLs after the check. PRIVATE_FILES_SERVE=nginx lets
# nginx send local files (X-Accel-Redirect to its internal /_private/ location) once the app said yes.
S3_BUCKET = env.str("S3_BUCKET", default="")
if S3_BUCKET:
    _default_storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": S3_BUCKET,
            "endpoint_url": env.str("S3_ENDPOINT_URL", default="") or None,
            "region_name": env.str("S3_REGION", default="") or None,
            "access_key": env.str("S3_ACCESS_KEY_ID", default="") or None,
            "secret_key": env.str("S3_SECRET_ACCESS_KEY", default="") or None,
            "default_acl": "private",
            "querystring_auth": True,
            "querystring_expire": env.int("S3_URL_SECONDS", default=60),
            "file_overwrite": False,
            "signature_version": "s3v4",
            "addressing_style": env.str("S3_ADDRESSING_STYLE", default="auto"),
        },
    }
else:
    _default_storage = {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"base_url": None}}
PRIVATE_FILES_SERVE = env.str("PRIVATE_FILES_SERVE", default="django")  # "django" or "nginx"
PRIVATE_FILES_NGINX_PREFIX = "/_private/"
STORAGES = {
    "default": _default_storage,
    # Static files are public: readable by everyone, nginx's workers included (they run as another user than
    # the app's), whatever FILE_UPLOAD_PERMISSIONS says of the private uploads.
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage",
        "OPTIONS": {"file_permissions_mode": 0o644, "directory_permissions_mode": 0o755},
    },
}
# The letter size limit, shown on the page before upload (domain.md: default 10 MB).
SUPPORT_LETTER_MAX_BYTES = env.int("SUPPORT_LETTER_MAX_BYTES", default=10 * 1024 * 1024)
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
# Uploads are readable by their owner (the app) and its group, never by others. In the image the app's
# group is nginx's (Dockerfile, deploy/data-folders.sh), so nginx's workers read what the app lets them
# send (X-Accel-Redirect) and nobody else does.
FILE_UPLOAD_PERMISSIONS = 0o640
FILE_UPLOAD_DIRECTORY_PERMISSIONS = 0o750
PARTNER_INVITATION_DAYS = env.int("PARTNER_INVITATION_DAYS", default=30)

# Mail leaves through a Celery task. Without a broker (the embedded default) tasks run eagerly in-process.
# On a laptop mail is printed on the console; in production (DEBUG=0) it goes out by SMTP, and a backend
# that delivers nothing (console, file, memory, dummy) stops the start-up: it would mark every receipt and
# invitation sent while printing its link tokens and PDFs into the worker's log.
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend" if DEBUG
                        else "django.core.mail.backends.smtp.EmailBackend")
UNDELIVERING_EMAIL_BACKENDS = frozenset(f"django.core.mail.backends.{name}.EmailBackend"
                                        for name in ("console", "filebased", "locmem", "dummy"))
if not DEBUG and EMAIL_BACKEND in UNDELIVERING_EMAIL_BACKENDS and not env.bool("ALLOW_UNDELIVERED_MAIL", default=False):
    raise ImproperlyConfigured(
        f"EMAIL_BACKEND={EMAIL_BACKEND} delivers no mail and DEBUG=0: production sends by SMTP (unset "
        "EMAIL_BACKEND and set EMAIL_HOST, EMAIL_PORT…), see README, \"Configuration\".")
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
# A hung SMTP server must not block a worker for ever: the send fails and is retried with backoff.
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=30)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="IEA <no-reply@iea.localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
ORGANISATION_NAME = env.str("ORGANISATION_NAME", default="CNRS")
DIRECTORATE_NAME = env.str("DIRECTORATE_NAME", default="")  # never hard-coded (domain.md)
# Reviewer profiles: besides uploaded exports, import a person's publications from HAL's and ORCID's public APIs
# by their idHAL / ORCID iD (reviews.domain.publication_online). Off unless the deployment can reach them.
PUBLICATION_IMPORT_ONLINE = env.bool("PUBLICATION_IMPORT_ONLINE", default=False)
PUBLICATION_HAL_API = env.str("PUBLICATION_HAL_API", default="https://api.archives-ouvertes.fr/search/")
PUBLICATION_ORCID_API = env.str("PUBLICATION_ORCID_API", default="https://pub.orcid.org/v3.0/")

CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="")
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=not CELERY_BROKER_URL)
# Without a broker, tasks run in-process; "memory://" keeps Celery from looking for one on localhost.
CELERY_BROKER_URL = CELERY_BROKER_URL or "memory://"
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_IGNORE_RESULT = True
# The queue tasks are sent to and workers consume: the tests give each run its own on a shared Redis.
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_TASK_DEFAULT_QUEUE", default="celery")
if CELERY_BROKER_URL.startswith("filesystem://"):
    # ``make run``: a broker that needs no server (kombu's filesystem transport), in var/broker.
    _broker_dir = Path(env.str("CELERY_BROKER_FOLDER", default=str(BASE_DIR / "var" / "broker")))
    for _sub in ("queue", "processed"):
        (_broker_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"), "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"), "store_processed": False,
    }
# A request that queues mail while the broker is down answers at once (the outbox queues it again later,
# iea.notifications.domain.enqueue): one quick retry and short socket timeouts, not kombu's default retries.
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.2}
CELERY_BROKER_CONNECTION_TIMEOUT = 2
if CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    # socket_timeout: a broker that vanished without closing the connection fails a publish, not hangs it
    # (kombu's BRPOP waits 1 s, well within it).
    CELERY_BROKER_TRANSPORT_OPTIONS = {"socket_connect_timeout": 1, "socket_timeout": 5}
# The reminders' dispatcher (iea.notifications): beat ticks every NOTIFICATIONS_TICK seconds.
NOTIFICATIONS = {
    "TICK": env.int("NOTIFICATIONS_TICK", default=30),
    # A claim not renewed for this long is a dead worker's: its messages are taken over. A live worker's
    # batch renews its claim every HEARTBEAT seconds; HEARTBEAT + EMAIL_TIMEOUT + CLAIM_MARGIN must stay
    # below CLAIM_TIMEOUT (iea/notifications/lease.py: otherwise a message could go out twice).
    "CLAIM_TIMEOUT": env.int("NOTIFICATIONS_CLAIM_TIMEOUT", default=60),
    "HEARTBEAT": env.float("NOTIFICATIONS_HEARTBEAT", default=5.0),
    "CLAIM_MARGIN": env.float("NOTIFICATIONS_CLAIM_MARGIN", default=10.0),
    # A message queued this long ago and still waiting is queued again (a broker restart may have lost it)…
    "REQUEUE_AFTER": env.int("NOTIFICATIONS_REQUEUE_AFTER", default=600),
    # …or this long ago, when the workers' queue is empty (then its message is not waiting there).
    "REQUEUE_IDLE_AFTER": env.int("NOTIFICATIONS_REQUEUE_IDLE_AFTER", default=30),
    # The admin's "needs attention" filter: not sent this long after its due time.
    "LATE_AFTER": env.int("NOTIFICATIONS_LATE_AFTER", default=300),
    "MAX_ATTEMPTS": env.int("NOTIFICATIONS_MAX_ATTEMPTS", default=6),
    "RETRY_BASE": env.int("NOTIFICATIONS_RETRY_BASE", default=60),
    "BATCH_SIZE": env.int("NOTIFICATIONS_BATCH_SIZE", default=100),
    "MAX_PER_TICK": env.int("NOTIFICATIONS_MAX_PER_TICK", default=50000),
}
CELERY_BEAT_SCHEDULE = {
    "dispatch-due-notifications": {
        "task": "iea.notifications.tasks.dispatch_due",
        "schedule": NOTIFICATIONS["TICK"],
        "options": {"expires": NOTIFICATIONS["TICK"]},
    },
}

# Redis in production (CACHE_URL=redis://…): a cache that fails open when Redis is away (iea.cache).
from iea.cache import cache_settings as _cache_settings  # noqa: E402  (kept inside this block)

CACHES = {"default": _cache_settings(env.str("CACHE_URL", default="locmemcache://"))}

MESSAGE_STORAGE = "django.contrib.messages.storage.fallback.FallbackStorage"
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=8 * 3600)  # from the sign-in, at the most
SESSION_IDLE_SECONDS = env.int("SESSION_IDLE_SECONDS", default=2 * 3600)  # without a request (iea.sessions)
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Browser features the platform never uses, denied to every page and anything it could embed (issue #16).
# Left out on purpose: fullscreen (the browser's PDF viewer), clipboard, and the WebAuthn features that
# allauth's security keys would need.
PERMISSIONS_POLICY = {feature: [] for feature in (
    "accelerometer", "ambient-light-sensor", "autoplay", "bluetooth", "browsing-topics", "camera",
    "display-capture", "encrypted-media", "geolocation", "gyroscope", "hid", "idle-detection", "interest-cohort",
    "local-fonts", "magnetometer", "microphone", "midi", "payment", "picture-in-picture", "screen-wake-lock",
    "serial", "usb", "xr-spatial-tracking",
)}

if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
    if not SECURE_HSTS_PRELOAD:
        # Joining the browsers' preload list binds every subdomain for years: the operator opts in.
        SILENCED_SYSTEM_CHECKS = ["security.W021"]
    ACCOUNT_DEFAULT_HTTP_PROTOCOL = "https"

# --- Logging ---
# One line per event on stderr: a JSON object (LOG_FORMAT=json, the default when DEBUG is off) or plain
# text (the default with DEBUG, so on a laptop and in the tests). Every line carries the request id and the
# signed-in user's id (iea.logging); README, "Logs", lists the fields and the events.
LOG_FORMAT = env.str("LOG_FORMAT", default="text" if DEBUG else "json")
if LOG_FORMAT not in ("json", "text"):
    raise ValueError(f"LOG_FORMAT must be json or text, not {LOG_FORMAT!r}")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_context": {"()": "iea.logging.RequestContextFilter"}},
    "formatters": {
        "json": {"()": "iea.logging.JsonFormatter"},
        "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s user=%(user_id)s] %(message)s"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "filters": ["request_context"],
                             "formatter": LOG_FORMAT}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    # Celery's "Task … succeeded" line per task would drown the console (the outbox logs what matters).
    # gunicorn's loggers lose the handlers gunicorn gives them and use the one above (iea/gunicorn.py).
    # pikepdf announces its logger bridge at INFO when first imported: not news.
    "loggers": {"weasyprint": {"level": "ERROR"}, "fontTools": {"level": "ERROR"}, "pikepdf": {"level": "WARNING"},
                "celery.app.trace": {"level": "WARNING"},
                "gunicorn.error": {"propagate": True}, "gunicorn.access": {"propagate": True}},
}
# The worker logs through the handler above (JSON, request ids) instead of installing Celery's own.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# --- end of logging ---

# The REST API (iea/api): session for the browser; one JSON error format; every list paginated;
# throttled per user (and per address for anonymous reads).
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["iea.api.auth.TokenAuthentication",
                                       "rest_framework.authentication.SessionAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated", "iea.api.auth.TokenHasScope"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser", "rest_framework.parsers.MultiPartParser"],
    "DEFAULT_PAGINATION_CLASS": "iea.api.pagination.Pagination",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "iea.api.errors.api_exception_handler",
    # DRF's own throttles, counting an anonymous caller by iea.proxies.client_ip instead of DRF's reading of
    # X-Forwarded-For (which believes any client's header).
    "DEFAULT_THROTTLE_CLASSES": ["iea.api.throttling.UserRateThrottle", "iea.api.throttling.AnonRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"user": env.str("API_USER_RATE", default="600/minute"),
                               "anon": env.str("API_ANON_RATE", default="60/minute")},
}
SPECTACULAR_SETTINGS = {
    "TITLE": "IEA platform API",
    "DESCRIPTION": "CNRS International Emerging Actions: calls, proposals, reviews and funding.",
    "VERSION": "v1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    # A PATCH body keeps its required fields (lock_version) instead of a "Patched…" copy with none.
    "COMPONENT_SPLIT_PATCH": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    # Deep links put a link inside each operation's button (axe: nested-interactive, serious).
    "SWAGGER_UI_SETTINGS": {"deepLinking": False},
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums", "iea.api.schema.add_error_responses"],
    # Several models have a "state": one named enum each in the schema.
    "ENUM_NAME_OVERRIDES": {
        "CallStateEnum": "calls.models.CallState",
        "ProposalStateEnum": "proposals.models.ProposalState",
        "AssignmentStateEnum": "reviews.models.AssignmentState",
        "ReviewStateEnum": "reviews.models.ReviewState",
        "RecommendationEnum": "reviews.models.Recommendation",
        "AwardStateEnum": "funding.models.AwardState",
        "TrancheStateEnum": "funding.models.TrancheState",
        "ReportStateEnum": "funding.models.ReportState",
        "ReportPeriodEnum": "funding.models.ReportPeriod",
    },
}

