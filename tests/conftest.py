import io
import json
import logging
import os
from pathlib import Path

import pytest

from iea.logging import JsonFormatter

from .factories import CallFactory, ProposalFactory, StaffFactory, UserFactory
from .query_counts import QueryCounter
from .redis_servers import private_redis  # noqa: F401  (a fixture: a redis-server of the test's own)

# SQLite's test database is a file in var/ (see settings), so that threads share it.
(Path(__file__).resolve().parent.parent / "var").mkdir(exist_ok=True)

# Playwright's sync API runs an event loop in the test thread; Django's ORM is still used synchronously.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(autouse=True)
def _private_media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "private"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.CELERY_TASK_ALWAYS_EAGER = True
    # Assertions read English text; tests of the French pages ask for French explicitly.
    settings.LANGUAGE_CODE = "en"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.STORAGES = {**settings.STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}


@pytest.fixture
def rendered_mails(monkeypatch):
    """(template, language) of every templated mail built, in order (``iea.mail.build_message``)."""
    import iea.mail

    built = []
    real = iea.mail.build_message

    def spy(**kwargs):
        built.append((kwargs["name"], kwargs["language"]))
        return real(**kwargs)

    monkeypatch.setattr(iea.mail, "build_message", spy)
    return built


@pytest.fixture
def queries():
    """Exact query counts at two sizes: ``assert queries.at_sizes(grow, hit) == (7, 7)`` (tests/query_counts.py)."""
    return QueryCounter()


@pytest.fixture
def pi(db):
    return UserFactory(email="pi@cnrs.example.fr", full_name="Paula Investigator")


@pytest.fixture
def other_pi(db):
    return UserFactory(email="other@cnrs.example.fr")


@pytest.fixture
def staff(db):
    return StaffFactory(email="staff@cnrs.example.fr")


@pytest.fixture
def signed_in(client, staff):
    """The test client signed in as ``staff``, reading the pages in English."""
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    client.force_login(staff)
    return client


@pytest.fixture
def call(db):
    return CallFactory()


@pytest.fixture
def draft(db, pi, call):
    return ProposalFactory(call=call, pi=pi, complete=True)


@pytest.fixture(autouse=True)
def _broker_up():
    """The outbox stops trying a broker for a few seconds after it failed (iea.notifications.domain): a test
    that made it fail does not leave the next ones without a broker."""
    from iea.notifications import domain

    domain._broker_down_until.clear()
    yield
    domain._broker_down_until.clear()


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Each test starts with an empty cache. The local-memory cache lives as long as the worker process, and
    allauth keeps in it the two-factor codes already used per user id and its rate limits: a later test whose
    user got the same id would see its first code refused within the same 30 seconds."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def require_postgres():
    """For the PostgreSQL-only tests (``-m postgres``): a skip on SQLite, a failure when CI says
    REQUIRE_POSTGRES=1."""
    from django.db import connection

    if connection.vendor != "postgresql":
        message = f"needs PostgreSQL, the database is {connection.vendor}"
        if os.environ.get("REQUIRE_POSTGRES") == "1":
            pytest.fail(f"REQUIRE_POSTGRES=1 but {message}: set DATABASE_URL=postgres://…", pytrace=False)
        pytest.skip(message)


@pytest.fixture
def require_sqlite():
    """For the SQLite-only variants (``-m sqlite``, deselected in CI's PostgreSQL leg)."""
    from django.db import connection

    if connection.vendor != "sqlite":
        pytest.skip(f"SQLite variant; the database is {connection.vendor}")


def pytest_sessionfinish(session, exitstatus):
    """In CI (FAIL_ON_SKIP=1) a skipped test fails the run: nothing may pass without having run."""
    if os.environ.get("FAIL_ON_SKIP") != "1" or getattr(session.config, "workerinput", None) is not None:
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter else []
    if skipped:
        reporter.write_line(f"FAIL_ON_SKIP=1: {len(skipped)} test(s) skipped; CI must run everything.", red=True)
        session.exitstatus = 1


def pytest_addoption(parser):
    parser.addoption("--stack", action="store_true",
                     help="Run the production stack test (tests/stack, `make stack-test`): root, nginx, redis-server…")


def pytest_collection_modifyitems(config, items):
    """The stack test (``-m stack``) starts the whole production stack: it runs on its own, with ``--stack``
    (``make stack-test``, a step of CI), never inside ``make test``."""
    if config.getoption("--stack"):
        return
    kept = [item for item in items if item.get_closest_marker("stack") is None]
    if len(kept) != len(items):
        config.hook.pytest_deselected(items=[item for item in items if item.get_closest_marker("stack")])
        items[:] = kept


@pytest.fixture
def log_output():
    """What the configured console handler writes (its filter included), as JSON; gives (lines, raw text)."""
    handler = next(h for h in logging.getLogger().handlers if h.name == "console")
    buffer = io.StringIO()
    stream, formatter = handler.setStream(buffer), handler.formatter
    handler.setFormatter(JsonFormatter())

    def read():
        text = buffer.getvalue()
        return [json.loads(line) for line in text.splitlines()], text

    yield read
    handler.setStream(stream)
    handler.setFormatter(formatter)
