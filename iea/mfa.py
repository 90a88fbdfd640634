"""Two-factor authentication for the people who handle confidential material.

Reviewers, institute officers and directorate staff must have a TOTP authenticator before they see any
proposal (domain.md, "Sign-in"); allauth then asks for the code at every sign-in. The rule is enforced in
one place that every request passes, ``TwoFactorMiddleware``, by role rather than by page: a page added
tomorrow is covered without anyone remembering a decorator (``tests/iea/test_mfa_everywhere.py`` walks
every URL of the project to prove it). PIs and unit managers are not asked for it.

API requests signed with a token authenticate inside DRF, after the middleware: the permission class
``iea.api.permissions.MfaForConfidential`` asks the same question there.
"""

import time

from django.contrib import messages
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_htmx.http import HttpResponseClientRedirect
from rest_framework.exceptions import PermissionDenied

from .api import errors as api_errors
from .roles import user_roles

# What the API answers, from the middleware (session) as from the permission class (token).
API_REFUSAL = gettext_lazy(
    "Set up two-factor authentication in your account first: reviewers, officers and staff handle "
    "confidential proposals.")

# The pages a person who must set up two-factor authentication may still reach, by URL name: setting it up
# (allauth's overview, the TOTP activation, the recovery codes it shows next; the password, which allauth
# asks again before the activation; the e-mail page and its confirmation link, since allauth refuses the
# activation while an address is unverified), signing out, and the language switch with its JavaScript
# catalogue. Health checks and static files are answered before this middleware runs
# (``iea.health``, WhiteNoise).
ALLOWED_WITHOUT_MFA = frozenset({
    "mfa_index", "mfa_activate_totp",
    "mfa_view_recovery_codes", "mfa_generate_recovery_codes", "mfa_download_recovery_codes",
    "account_reauthenticate",
    "account_email", "account_email_verification_sent", "account_confirm_email",
    "account_logout",
    "set_language", "javascript-catalog",
})


def needs_mfa(user) -> bool:
    if not user.is_authenticated:
        return False
    roles = user_roles(user)
    return roles.staff or roles.officer or roles.reviewer


def has_mfa(user) -> bool:
    """Asked in the same query as the roles (``iea.roles``), so the check on every request costs nothing
    on a page that shows the menu."""
    return user.is_authenticated and user_roles(user).two_factor


def setup_url(request) -> str:
    page = _page_asked_for(request)
    return f"{reverse('mfa_activate_totp')}?{urlencode({'next': page})}" if page else reverse("mfa_activate_totp")


def _page_asked_for(request) -> str | None:
    """The page to come back to: a fragment's is the page the browser shows, a form's POST is none."""
    if request.htmx:
        path = request.htmx.current_url_abs_path
    else:
        path = request.get_full_path() if request.method == "GET" else None
    return path if path and url_has_allowed_host_and_scheme(path, allowed_hosts=None) else None


class TwoFactorMiddleware:
    """Every request of a signed-in reviewer, officer or staff member without two-factor authentication
    goes to its set-up, except the few pages of ``ALLOWED_WITHOUT_MFA``; the admin included.

    It decides in ``process_view``, once Django has resolved the URL, so the allow-list is a list of URL
    names. An htmx request is sent there with ``HX-Redirect`` (a redirect followed inside a fragment would
    put the set-up page in it); an API request gets the API's JSON 403, not a redirect.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        user = request.user
        if not needs_mfa(user) or has_mfa(user):
            return None
        if request.resolver_match.view_name in ALLOWED_WITHOUT_MFA:
            return None
        if request.path_info.startswith(api_errors.API_PATH_PREFIX):
            return api_errors.refused(PermissionDenied.default_code, str(API_REFUSAL))
        messages.warning(request, _("Set up two-factor authentication first: reviewers, officers and staff handle confidential proposals."))
        _remember_the_page_asked_for(request)
        if request.htmx:
            return HttpResponseClientRedirect(setup_url(request))
        return redirect(setup_url(request))


CONTINUE_SESSION_KEY = "iea_mfa_continue"


def _remember_the_page_asked_for(request) -> None:
    """allauth's activation form drops ``?next=``: the page a person asked for is kept in their session, and
    the page after the activation offers it (``continue_after_setup``)."""
    page = _page_asked_for(request)
    if page:
        request.session[CONTINUE_SESSION_KEY] = page


def continue_after_setup(request) -> str | None:
    """The page to go back to, once two-factor authentication is set up; offered once."""
    if not has_mfa(request.user):
        return None
    return request.session.pop(CONTINUE_SESSION_KEY, None)


def current_totp_code(secret: str) -> str:
    """The code an authenticator app shows now for ``secret`` (the demo's ``make totp``, the tests): the
    current time step's, not the oldest one allauth still accepts (MFA_TOTP_TOLERANCE)."""
    from allauth.mfa import app_settings
    from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value

    return format_hotp_value(hotp_value(secret, int(time.time()) // app_settings.TOTP_PERIOD))
