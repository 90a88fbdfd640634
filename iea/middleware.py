"""The project's own middleware: the Content-Security-Policy of every response, and two-factor authentication
asked of the people who handle confidential material (the rule and its questions are ``iea.mfa``'s)."""

import base64
import functools
import hashlib
import re
from pathlib import Path

import django.contrib.admin
from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django_htmx.http import HttpResponseClientRedirect
from rest_framework.exceptions import PermissionDenied

from .api import errors as api_errors
from .mfa import API_REFUSAL, CONTINUE_SESSION_KEY, has_mfa, needs_mfa


@functools.cache
def admin_inline_style_hashes() -> tuple[str, ...]:
    """The CSP sources of the inline ``<style>`` blocks of Django's admin templates, hashed from the installed
    Django's own files (so an upgrade that changes them changes the hash with them)."""
    templates = Path(django.contrib.admin.__file__).parent / "templates" / "admin"
    sources = []
    for template in sorted(templates.rglob("*.html")):
        for block in re.findall(r"<style>(.*?)</style>", template.read_text(encoding="utf-8"), flags=re.S):
            digest = base64.b64encode(hashlib.sha256(block.encode()).digest()).decode()
            sources.append(f"'sha256-{digest}'")
    return tuple(sources)


class ContentSecurityPolicyMiddleware:
    """A strict Content-Security-Policy: every script and style comes from the app's own static files.

    No inline script or style anywhere (templates use classes and static/js), so this holds on every page.
    The Django admin has one inline ``<style>`` (``admin/change_list.html``, on a list without actions): the
    admin's pages allow that block by its hash (``admin_inline_style_hashes``), not every inline style; its
    JavaScript sets styles through the DOM, which CSP allows. The crawl records any violation.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        style = "'self'"
        if request.path.startswith("/admin/"):
            style = " ".join([style, *admin_inline_style_hashes()])
        # Single sign-on: a sign-in button posts here and is redirected to the identity provider, which
        # browsers check against form-action too (settings.CSP_FORM_ACTION, from iea.sso).
        form_action = " ".join(["'self'", *getattr(settings, "CSP_FORM_ACTION", [])])
        policy = (
            "default-src 'self'; script-src 'self'; "
            f"style-src {style}; img-src 'self' data:; font-src 'self'; connect-src 'self'; "
            f"object-src 'none'; base-uri 'self'; form-action {form_action}; frame-ancestors 'none'"
        )
        response.headers.setdefault("Content-Security-Policy", policy)
        if not settings.DEBUG:
            response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        return response


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


def _remember_the_page_asked_for(request) -> None:
    """allauth's activation form drops ``?next=``: the page a person asked for is kept in their session, and
    the page after the activation offers it (``continue_after_setup``)."""
    page = _page_asked_for(request)
    if page:
        request.session[CONTINUE_SESSION_KEY] = page
