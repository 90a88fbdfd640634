"""Two-factor authentication for the people who handle confidential material.

Reviewers, institute officers and directorate staff must have a TOTP authenticator before they see any
proposal (domain.md, "Sign-in"); allauth then asks for the code at every sign-in. The Django admin is
behind the same rule.
"""

import time
from functools import wraps

from allauth.mfa.models import Authenticator
from django.contrib import messages
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _

from .roles import user_roles


def needs_mfa(user) -> bool:
    if not user.is_authenticated:
        return False
    roles = user_roles(user)
    return roles.staff or roles.officer or roles.reviewer


def has_mfa(user) -> bool:
    cached = getattr(user, "_iea_has_mfa", None)
    if cached is None:
        cached = Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()
        user._iea_has_mfa = cached
    return cached


def _to_setup(request):
    messages.warning(request, _("Set up two-factor authentication first: reviewers, officers and staff handle confidential proposals."))
    return redirect(f"{reverse('mfa_activate_totp')}?next={request.get_full_path()}")


def mfa_required(view):
    """For views that show proposals to reviewers, officers or staff."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if needs_mfa(request.user) and not has_mfa(request.user):
            return _to_setup(request)
        return view(request, *args, **kwargs)

    return wrapper


class AdminRequiresMfaMiddleware:
    """Staff reach the Django admin only with two-factor authentication set up."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if (
            request.path.startswith("/admin/")
            and not request.path.startswith("/admin/login/")
            and request.user.is_authenticated
            and request.user.is_staff
            and not has_mfa(request.user)
        ):
            return _to_setup(request)
        return self.get_response(request)


def current_totp_code(secret: str) -> str:
    """The code an authenticator app shows now for ``secret`` (the demo's ``make totp``, the tests): the
    current time step's, not the oldest one allauth still accepts (MFA_TOTP_TOLERANCE)."""
    from allauth.mfa import app_settings
    from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value

    return format_hotp_value(hotp_value(secret, int(time.time()) // app_settings.TOTP_PERIOD))
