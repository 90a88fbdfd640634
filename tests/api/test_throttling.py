"""The anonymous API throttle counts each real client (iea.api.throttling, iea.proxies): two people behind
nginx have a budget each; a header that varies, sent straight to the app or through a proxy that appends to
it, never buys a new one."""

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

NGINX = "172.30.94.10"
URL = "/api/v1/institutes/"


@pytest.fixture(autouse=True)
def _two_reads_a_minute(settings, monkeypatch):
    from rest_framework.throttling import SimpleRateThrottle

    settings.TRUSTED_PROXIES = [NGINX]
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {"user": "600/minute", "anon": "2/minute"})
    cache.clear()
    yield
    cache.clear()


def read(remote_addr: str, forwarded_for: str | None = None) -> int:
    headers = {"HTTP_X_FORWARDED_FOR": forwarded_for} if forwarded_for else {}
    return APIClient(REMOTE_ADDR=remote_addr, **headers).get(URL).status_code


def test_two_clients_behind_nginx_have_a_budget_each_and_only_one():
    assert [read(NGINX, "203.0.113.1") for _ in range(3)] == [200, 200, 429]
    assert [read(NGINX, "203.0.113.2") for _ in range(3)] == [200, 200, 429]
    # The first client again, with a header of its own that a proxy appending to it would pass on.
    assert [read(NGINX, f"10.0.0.{n}, 203.0.113.1") for n in range(3)] == [429, 429, 429]


def test_a_varying_header_sent_straight_to_the_app_is_ignored():
    assert [read("198.51.100.66", f"203.0.113.{n}") for n in range(1, 5)] == [200, 200, 429, 429]


def test_a_signed_in_caller_is_counted_by_account(api_client, settings):
    from tests.factories import UserFactory

    client = api_client(UserFactory())
    client.defaults.update(REMOTE_ADDR=NGINX, HTTP_X_FORWARDED_FOR="203.0.113.1")
    assert read(NGINX, "203.0.113.1") == 200
    assert [client.get(URL).status_code for _ in range(3)] == [200, 200, 200]
