"""DRF's throttles, counting an anonymous caller by the client's address (``iea.proxies.client_ip``).

DRF's ``get_ident`` takes X-Forwarded-For as the caller's address when ``NUM_PROXIES`` is unset, so a script
that sends a new header with each request is never throttled; and without the header every caller behind
nginx would share nginx's budget. A signed-in caller is counted by their account, as in DRF.
"""

from rest_framework import throttling

from iea.proxies import client_ip


class AnonRateThrottle(throttling.AnonRateThrottle):
    def get_ident(self, request):
        return client_ip(request)


class UserRateThrottle(throttling.UserRateThrottle):
    def get_ident(self, request):
        return client_ip(request)
