"""Two-factor authentication for the people who handle confidential material.

Reviewers, institute officers and directorate staff must have a TOTP authenticator before they see any
proposal (domain.md, "Sign-in"); allauth then asks for the code at every sign-in. The rule is enforced in
one place that every request passes, ``iea.middleware.TwoFactorMiddleware``, by role rather than by page:
a page added tomorrow is covered without anyone remembering a decorator (``tests/iea/test_mfa_everywhere.py``
walks every URL of the project to prove it). PIs and unit managers are not asked for it. This module holds
the rule's questions; the middleware and the API's permission class ask them.

API requests signed with a token authenticate inside DRF, after the middleware: the permission class
``iea.api.permissions.MfaForConfidential`` asks the same question there.
"""

import time

from allauth.mfa import app_settings
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from django.utils.translation import gettext_lazy

from .roles import user_roles

# What the API answers, from the middleware (session) as from the permission class (token).
API_REFUSAL = gettext_lazy(
    "Set up two-factor authentication in your account first: reviewers, officers and staff handle "
    "confidential proposals.")


def needs_mfa(user) -> bool:
    if not user.is_authenticated:
        return False
    roles = user_roles(user)
    return roles.staff or roles.officer or roles.reviewer


def has_mfa(user) -> bool:
    """Asked in the same query as the roles (``iea.roles``), so the check on every request costs nothing
    on a page that shows the menu."""
    return user.is_authenticated and user_roles(user).two_factor


CONTINUE_SESSION_KEY = "iea_mfa_continue"  # the page asked for, kept by iea.middleware.TwoFactorMiddleware


def continue_after_setup(request) -> str | None:
    """The page to go back to, once two-factor authentication is set up; offered once."""
    if not has_mfa(request.user):
        return None
    return request.session.pop(CONTINUE_SESSION_KEY, None)


def current_totp_code(secret: str) -> str:
    """The code an authenticator app shows now for ``secret`` (the demo's ``make totp``, the tests): the
    current time step's, not the oldest one allauth still accepts (MFA_TOTP_TOLERANCE)."""
    return format_hotp_value(hotp_value(secret, int(time.time()) // app_settings.TOTP_PERIOD))
