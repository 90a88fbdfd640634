"""Sessions end after ``SESSION_IDLE_SECONDS`` without a request (default 2 hours), and in any case
``SESSION_COOKIE_AGE`` after the sign-in (default 8 hours): an unattended browser in a shared office does
not stay signed in on confidential proposals. The last activity is written at most once a minute."""

import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.signals import user_logged_in
from django.contrib.auth.views import redirect_to_login
from django.dispatch import receiver
from django.utils.translation import gettext as _

KEY = "iea_last_seen"
WRITE_EVERY = 60


@receiver(user_logged_in, dispatch_uid="iea.sessions.signed_in")
def _signed_in(sender, request, user, **kwargs):
    """The sign-in is the first activity: stamped in the session the sign-in saves anyway, so the first page
    after it does not write the session again."""
    if request is not None and hasattr(request, "session"):
        request.session[KEY] = int(time.time())


class SessionIdleTimeoutMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            now = int(time.time())
            last = request.session.get(KEY)
            if last is not None and now - last > settings.SESSION_IDLE_SECONDS:
                logout(request)
                if request.path.startswith("/api/"):
                    return self.get_response(request)  # the API answers 401 by itself
                messages.info(request, _("You were signed out after a period without activity. Sign in again."))
                return redirect_to_login(request.get_full_path())
            if last is None or now - last >= WRITE_EVERY:
                request.session[KEY] = now
        return self.get_response(request)
