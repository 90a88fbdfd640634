"""The sign-in events in the logs (``iea.security``): sign-ins, failed sign-ins and two-factor codes,
sign-outs. Connected when the app is ready (``AccountsConfig.ready``).

A failed sign-in names no one: the address typed is personal data (and may be a typo of someone else's),
so the line carries its keyed hash only; the password never reaches the log (Django masks it, and it
is not read here).
"""

import hashlib
import hmac
import logging

from allauth.mfa.signals import authentication_failed
from django.conf import settings
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

security_log = logging.getLogger("iea.security")


def email_digest(email: str) -> str:
    """A keyed hash of an address (HMAC-SHA256 with SECRET_KEY, 16 hex digits): the same address always
    gives the same digest, so repeated failures on one account show, and an operator who knows an address
    can compute its digest; the log alone does not give the address."""
    normalised = (email or "").strip().lower().encode()
    return hmac.new(settings.SECRET_KEY.encode(), normalised, hashlib.sha256).hexdigest()[:16]


@receiver(user_logged_in, dispatch_uid="iea.security_log.signed_in")
def _signed_in(sender, request, user, **kwargs):
    security_log.info("signed in", extra={"event": "login.success", "user_id": user.pk})


@receiver(user_login_failed, dispatch_uid="iea.security_log.sign_in_failed")
def _sign_in_failed(sender, credentials, request=None, **kwargs):
    typed = credentials.get("email") or credentials.get("username") or credentials.get("login") or ""
    security_log.warning("sign-in failed", extra={"event": "login.failed", "email_hash": email_digest(str(typed))})


@receiver(authentication_failed, dispatch_uid="iea.security_log.mfa_failed")
def _two_factor_failed(sender, user, authenticator, reauthentication=False, **kwargs):
    security_log.warning("two-factor code refused", extra={
        "event": "login.mfa_failed", "user_id": user.pk, "authenticator": authenticator.type,
        "reauthentication": bool(reauthentication)})


@receiver(user_logged_out, dispatch_uid="iea.security_log.signed_out")
def _signed_out(sender, request, user, **kwargs):
    security_log.info("signed out", extra={"event": "logout", "user_id": getattr(user, "pk", None)})
