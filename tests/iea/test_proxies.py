"""The client's address behind a proxy (iea.proxies): X-Forwarded-For is read only when the connection comes
from an address or a network of TRUSTED_PROXIES, and then only the entry the proxy wrote."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import RequestFactory

from iea.proxies import client_address, client_ip, trusted_networks

ROOT = Path(__file__).resolve().parents[2]


def request_from(remote_addr: str, **headers):
    return RequestFactory().get("/", REMOTE_ADDR=remote_addr, **headers)


def test_by_default_no_forwarded_header_is_believed(settings):
    settings.TRUSTED_PROXIES = []
    seen = {client_ip(request_from("172.30.94.10", HTTP_X_FORWARDED_FOR=f"203.0.113.{n}")) for n in range(1, 6)}
    assert seen == {"172.30.94.10"}


def test_from_an_untrusted_address_every_forwarded_header_is_ignored(settings):
    settings.TRUSTED_PROXIES = ["172.30.94.10"]
    headers = {"HTTP_X_FORWARDED_FOR": "203.0.113.7", "HTTP_X_REAL_IP": "203.0.113.8",
               "HTTP_FORWARDED": "for=203.0.113.9", "HTTP_CF_CONNECTING_IP": "203.0.113.10"}
    assert client_ip(request_from("198.51.100.66", **headers)) == "198.51.100.66"
    assert client_ip(request_from("172.30.94.11", **headers)) == "172.30.94.11"  # a neighbour of nginx


def test_from_a_trusted_proxy_the_forwarded_address_is_the_client(settings):
    settings.TRUSTED_PROXIES = ["172.30.94.10"]
    assert client_ip(request_from("172.30.94.10", HTTP_X_FORWARDED_FOR="203.0.113.7")) == "203.0.113.7"
    assert client_ip(request_from("172.30.94.10", HTTP_X_FORWARDED_FOR="2001:db8::7")) == "2001:db8::7"
    # A proxy that appends: what the client sent stands to the left, the proxy's entry is the last one.
    assert client_ip(request_from("172.30.94.10", HTTP_X_FORWARDED_FOR="10.9.9.9, 203.0.113.7")) == "203.0.113.7"
    # Only X-Forwarded-For, the header nginx sets: the others reach the app as the client wrote them.
    assert client_ip(request_from("172.30.94.10", HTTP_X_REAL_IP="203.0.113.8")) == "172.30.94.10"
    # Nothing usable in the header: the connection's address.
    assert client_ip(request_from("172.30.94.10", HTTP_X_FORWARDED_FOR="unknown")) == "172.30.94.10"


def test_networks_and_ipv6_entries_are_trusted(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8", " 2001:db8:aa::/48"]
    assert client_ip(request_from("10.20.30.40", HTTP_X_FORWARDED_FOR="203.0.113.7")) == "203.0.113.7"
    assert client_ip(request_from("::ffff:10.20.30.40", HTTP_X_FORWARDED_FOR="203.0.113.7")) == "203.0.113.7"
    assert client_ip(request_from("2001:db8:aa::5", HTTP_X_FORWARDED_FOR="203.0.113.7")) == "203.0.113.7"
    assert client_ip(request_from("11.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.7")) == "11.0.0.1"
    assert client_ip(request_from("2001:db8:ab::5", HTTP_X_FORWARDED_FOR="203.0.113.7")) == "2001:db8:ab::5"


def test_gunicorns_environ_is_read_the_same_way(settings):
    settings.TRUSTED_PROXIES = ["127.0.0.1"]
    assert client_address({"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": "192.0.2.4"}) == "192.0.2.4"
    assert client_address({"REMOTE_ADDR": "127.0.0.2", "HTTP_X_FORWARDED_FOR": "192.0.2.4"}) == "127.0.0.2"


def test_an_entry_that_is_no_address_is_refused():
    with pytest.raises(ImproperlyConfigured, match="'nginx' is not an address or a network"):
        trusted_networks(("nginx",))
    env = {**{k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DJANGO_ALLOW_ASYNC_UNSAFE")},
           "TRUSTED_PROXIES": "172.30.94.10,nginx"}
    result = subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode != 0
    assert "TRUSTED_PROXIES: 'nginx' is not an address or a network" in result.stderr
