"""/healthz and /readyz: answered before the host check and the HTTPS redirect, 503 naming what is down,
never an error's detail."""

import os

import pytest
import redis

from iea import health

pytestmark = pytest.mark.django_db


def test_healthz_answers_whatever_the_host_and_without_redirecting_to_https(client, settings):
    settings.ALLOWED_HOSTS = ["iea.example.org"]
    settings.SECURE_SSL_REDIRECT = True
    response = client.get("/healthz", HTTP_HOST="10.0.0.7:8000")
    assert response.status_code == 200 and response.json() == {"status": "ok"}
    assert client.get("/calls/", HTTP_HOST="10.0.0.7:8000").status_code == 400  # the host check still holds


def test_readyz_checks_the_database_the_broker_and_the_storage(client, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "not-yet-created"
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "broker": "ok", "storage": "ok"}


def test_readyz_says_what_is_down_without_details(client, settings, monkeypatch):
    def down():
        raise OSError("connection to db.internal.example:5432 refused, password=secret")

    monkeypatch.setitem(health.CHECKS, "database", down)
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "database": "unreachable", "broker": "unreachable",
                               "storage": "ok"}
    assert b"secret" not in response.content and b"internal" not in response.content


def test_readyz_reports_an_unwritable_storage(client, settings, tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    settings.MEDIA_ROOT = folder
    try:
        if os.access(folder, os.W_OK):  # root ignores the mode: make the folder a file instead
            folder.chmod(0o700)
            folder.rmdir()
            folder.write_text("not a folder")
        assert client.get("/readyz").json()["storage"] == "unreachable"
    finally:
        if folder.is_dir():
            folder.chmod(0o700)


@pytest.mark.redis
def test_readyz_reaches_a_real_redis_broker(client, settings):
    url = os.environ.get("REDIS_TEST_URL", "redis://127.0.0.1:6379/15")
    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.exceptions.ConnectionError as error:
        if os.environ.get("REQUIRE_REDIS") == "1":
            pytest.fail(f"Redis is required (REQUIRE_REDIS=1) but {url} does not answer: {error}")
        pytest.skip(f"needs Redis at {url}")
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = url
    assert client.get("/readyz").json()["broker"] == "ok"
