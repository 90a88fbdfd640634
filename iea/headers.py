"""What caches may keep (issue #16): nothing of a signed-in person's pages, nor of the API.

Downloads, the admin and the links that carry a secret (the partner's, the co-signature's, the calendar
feed) already say ``no-store`` themselves; a view that set its own ``Cache-Control`` keeps it. Every other
answer to a signed-in person, and every API answer, gets ``Cache-Control: private, no-store``, so a shared
proxy never serves one person's proposal to another and the browser keeps no copy on disk after sign-out.
``Vary: Cookie`` is left as the session middleware sets it. Anonymous public pages (the calls, their
rules) stay cacheable.

The ``Permissions-Policy`` header is django-permissions-policy's (settings.PERMISSIONS_POLICY).
"""

from django.utils.cache import patch_cache_control

API_PREFIX = "/api/"


def _signed_in(request) -> bool:
    user = getattr(request, "user", None)  # absent on answers given before the authentication middleware
    return user is not None and user.is_authenticated


def is_private_answer(request) -> bool:
    """Whether the answer to this request must not be stored by any cache."""
    return request.path_info.startswith(API_PREFIX) or _signed_in(request)


class PrivateAnswersNotStoredMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if not response.has_header("Cache-Control") and is_private_answer(request):
            patch_cache_control(response, private=True, no_store=True)
        return response
