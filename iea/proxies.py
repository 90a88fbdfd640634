"""Who sent a request: the one answer for every rate limit (allauth's sign-in limits, the API's throttles) and
for the access log.

Behind nginx every request comes from nginx's address. The client's address is then the one nginx writes in
``X-Forwarded-For`` — but anyone can send that header, so it is read only when the request comes from a proxy
the operator trusts (``TRUSTED_PROXIES``: addresses or networks; README, "Production"). From anywhere else,
and by default (the list is empty), the forwarded headers are ignored and the address is the connection's.

python-ipware (the engine of django-ipware, without its Django request: gunicorn's access log has only the
WSGI environ) reads the header: it parses it (ports, brackets, IPv4-mapped IPv6 addresses, malformed
entries) and takes the right-most entry (``proxy_count=0``: no other proxy inside the header), the one the
trusted proxy wrote. nginx overwrites the header (deploy/nginx/templates/iea.conf.template); a proxy that
appends to it is right too, since what a client sent stands to the left of what the proxy added. ipware's
other headers (``X-Real-IP``, ``Forwarded``, ``CF-Connecting-IP``…) are never read: nginx passes them on as
the client sent them.
"""

import ipaddress
from collections.abc import Mapping
from functools import lru_cache

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from python_ipware import IpWare

FORWARDED_HEADER = "HTTP_X_FORWARDED_FOR"
_FORWARDED = IpWare(precedence=(FORWARDED_HEADER,), proxy_count=0)

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=8)
def trusted_networks(entries: tuple[str, ...]) -> tuple[Network, ...]:
    """``TRUSTED_PROXIES`` as networks: ``172.30.94.10`` is that address alone, ``10.0.0.0/8`` a network. An
    entry that is neither stops the app instead of trusting too much or nothing."""
    networks = []
    for entry in entries:
        try:
            networks.append(_unmapped_network(ipaddress.ip_network(entry.strip(), strict=False)))
        except ValueError as error:
            raise ImproperlyConfigured(f"TRUSTED_PROXIES: {entry!r} is not an address or a network ({error}).") from error
    return tuple(networks)


def _unmapped_network(network: Network) -> Network:
    if isinstance(network, ipaddress.IPv6Network) and network.prefixlen >= 96 and network.network_address.ipv4_mapped:
        return ipaddress.IPv4Network((network.network_address.ipv4_mapped, network.prefixlen - 96))
    return network


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    return address.ipv4_mapped or address if isinstance(address, ipaddress.IPv6Address) else address


def is_trusted_proxy(remote_addr: str) -> bool:
    address = _address(remote_addr or "")
    return address is not None and any(
        address in network for network in trusted_networks(tuple(settings.TRUSTED_PROXIES)))


def client_address(meta: Mapping) -> str:
    """The client's address from a request's ``META`` (or a WSGI environ): the forwarded one when the
    connection comes from a trusted proxy and the proxy named a valid one, else the connection's."""
    remote_addr = meta.get("REMOTE_ADDR") or ""
    if not is_trusted_proxy(remote_addr):
        return remote_addr
    address, _trusted_route = _FORWARDED.get_client_ip({FORWARDED_HEADER: meta.get(FORWARDED_HEADER) or ""})
    return str(address) if address is not None else remote_addr


def client_ip(request) -> str:
    """The address a request is counted against (sign-in limits, API throttles): ``client_address``."""
    return client_address(request.META)
