from urllib.parse import urlsplit

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core import context as allauth_context
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from django.conf import settings
from django.contrib.sites.requests import RequestSite
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from iea.next_actions import landing_url
from iea.proxies import client_ip

from .notifications import notify_account_mail


def platform_site() -> RequestSite:
    """The site as account mail names it: the platform's name and the address of SITE_URL, never the host a
    request came through ("Bonjour, c'est 127.0.0.1:8201"). django.contrib.sites is not installed (adding it
    to a database whose allauth migrations ran without it breaks their history), so the site is a
    RequestSite-like object filled from the settings."""
    site = RequestSite.__new__(RequestSite)
    site.domain = urlsplit(settings.SITE_URL).netloc
    site.name = settings.SITE_NAME
    return site


def _links_on_the_site(request, context: dict) -> dict:
    """The context's links (``activate_url``, ``password_reset_url``, ``signup_url``) on SITE_URL, as in every
    other mail: allauth builds them on the host the request came through, which may be an internal name."""
    origin = request.build_absolute_uri("/").rstrip("/") if request is not None else None
    return {key: settings.SITE_URL + value[len(origin):]
            if origin and key.endswith("_url") and isinstance(value, str) and value.startswith(origin + "/") else value
            for key, value in context.items()}


class AccountAdapter(DefaultAccountAdapter):
    """Remembers the language a person signed up in, sends account mail through the outbox, and counts the
    sign-in limits by the client's address (ACCOUNT_RATE_LIMITS)."""

    error_messages = {
        **DefaultAccountAdapter.error_messages,
        "too_many_login_attempts": _("Too many failed sign-in attempts from your network. Wait a few minutes "
                                     "and try again, or reset your password."),
    }

    def get_client_ip(self, request):
        """Every "ip" limit of allauth counts this address: the client's, even behind nginx (iea.proxies)."""
        return client_ip(request) or super().get_client_ip(request)

    def _get_login_attempts_cache_key(self, request, **credentials):
        """The "key" of a failed sign-in: the account typed *and* the address it was typed from. Keyed by
        the account alone (allauth's default), five wrong passwords from anywhere would lock its owner out
        for five minutes, over and over, on the eve of a deadline; keyed by both, they only slow down whoever
        types them. Also the key a password reset clears (allauth), for the address that reset it."""
        return f"{super()._get_login_attempts_cache_key(request, **credentials)}:{self.get_client_ip(request)}"

    def get_login_redirect_url(self, request):
        """Each person lands on their own work (``iea.next_actions.landing_url``: staff on the back office,
        then officer, reviewer, unit manager, PI — the most specific role first). A ``next`` parameter is
        read by allauth before this is asked, so it still wins."""
        return landing_url(request.user) or super().get_login_redirect_url(request)

    def save_user(self, request, user, form, commit=True):
        user.language = translation.get_language() or user.language
        return super().save_user(request, user, form, commit=commit)

    def send_mail(self, template_prefix, email, context):
        # Rendered here, in the request and its language (links need the request); sent by a task.
        request = allauth_context.request
        message = self.render_mail(template_prefix, email, {
            "request": request, "email": email, **_links_on_the_site(request, context),
            "current_site": platform_site(), "site_url": settings.SITE_URL,
        })
        html = next((content for content, mimetype in getattr(message, "alternatives", []) if mimetype == "text/html"), None)
        if message.content_subtype == "html":
            html, body = message.body, ""
        else:
            body = message.body
        notify_account_mail(subject=message.subject, body=body, html=html, from_email=message.from_email,
                            to=list(message.to), now=timezone.now())


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    """People who sign in through Janus or the OpenID Connect provider (iea.sso).

    Matching is allauth's: an address the provider vouches for (``verified_email``, or the OpenID
    ``email_verified`` claim) signs into the account that has it and connects the provider to it
    (SOCIALACCOUNT_EMAIL_AUTHENTICATION…); anyone else gets a new account without a password. Here a new
    account gets the person's name from the provider and the language of the page they signed in from.
    """

    def populate_user(self, request, sociallogin, data):
        """The first and last name from Janus's givenName and sn (OpenID: given_name, family_name); without
        them, its displayName split at the first word (``User.save``)."""
        user = super().populate_user(request, sociallogin, data)
        first, last = ((data.get(key) or "").strip() for key in ("first_name", "last_name"))
        if first or last:
            user.first_name, user.last_name = first[:100], last[:100]
        else:
            user.first_name = user.last_name = ""
            user.full_name = (data.get("name") or "").strip()[: user._meta.get_field("full_name").max_length]
        user.language = translation.get_language() or user.language
        return user
