from allauth.account.decorators import reauthentication_required
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from iea.errors import DomainError
from iea.next_actions import deadlines_for

from .calendar import render_ics
from .domain import (
    announcements_set,
    announcements_user,
    api_token_create,
    api_token_revoke,
    calendar_key_reset,
    profile_update,
)
from .forms import AnnouncementsForm, ApiTokenForm, ProfileForm
from .selectors import decorate, notifications_of

NOTIFICATIONS_PER_PAGE = 25


@login_required
@require_http_methods(["GET", "POST"])
def account_page(request):
    """The signed-in person's account: their name and language (saved here), and the way to their e-mail
    addresses, password, two-factor authentication, notifications, API tokens, calendar feed and data.
    There is no other person's account to open: the page is always the request's user."""
    user = request.user
    if request.method == "POST":
        form = ProfileForm(request.POST)
        if form.is_valid():
            try:
                changed = profile_update(user=user, actor=user, now=timezone.now(), **form.cleaned_data)
            except DomainError as error:
                form.add_error(None, error)
            else:
                language = user.language
                if "language" in changed:
                    translation.activate(language)
                messages.success(request, _("Your account is saved.") if changed else _("Nothing to change."))
                response = redirect("account")
                if "language" in changed:  # these pages now speak it too, as after the language switch
                    response.set_cookie(settings.LANGUAGE_COOKIE_NAME, language, max_age=settings.LANGUAGE_COOKIE_AGE,
                                        path=settings.LANGUAGE_COOKIE_PATH, domain=settings.LANGUAGE_COOKIE_DOMAIN,
                                        secure=settings.LANGUAGE_COOKIE_SECURE, httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
                                        samesite=settings.LANGUAGE_COOKIE_SAMESITE)
                return response
        return render(request, "accounts/account.html", _account_context(user, form), status=400)
    form = ProfileForm(initial={"first_name": user.first_name, "last_name": user.last_name, "language": user.language,
                                "orcid": user.orcid, "hal_id": user.hal_id})
    return render(request, "accounts/account.html", _account_context(user, form))


def _account_context(user, form) -> dict:
    return {
        "form": form,
        "addresses": list(EmailAddress.objects.filter(user=user).order_by("-primary", "email")),
        "two_factor": Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists(),
        "tokens": user.api_tokens.filter(revoked_at__isnull=True, expires_at__gt=timezone.now()).count(),
    }


@login_required
@require_GET
def calendar_page(request):
    """The address of the person's deadline feed, and the deadlines it holds today."""
    now = timezone.now()
    feed_url = request.build_absolute_uri(reverse("calendar_feed", args=[request.user.calendar_key]))
    return render(request, "accounts/calendar.html", {"feed_url": feed_url, "deadlines": deadlines_for(request.user, now=now)})


@login_required
@require_POST
def calendar_reset(request):
    """A new secret address: the old one stops working at once (e.g. after sharing it by mistake)."""
    calendar_key_reset(user=request.user, now=timezone.now())
    messages.success(request, _("Your calendar has a new address; the old one no longer works."))
    return redirect("calendar")


@require_GET
def calendar_feed(request, key):
    user = get_user_model().objects.filter(calendar_key=key, is_active=True).first()
    if user is None:
        raise Http404
    now = timezone.now()
    response = HttpResponse(render_ics(user, deadlines_for(user, now=now), now=now), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="iea-deadlines.ics"'
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_http_methods(["GET", "POST"])
def notifications_page(request):
    """The person's choice of call announcements, and every message the platform sent or will send them."""
    user = request.user
    if request.method == "POST":
        form = AnnouncementsForm(request.POST)
        if form.is_valid():  # a checkbox: always valid
            subscribed = form.cleaned_data["call_announcements"]
            announcements_set(user=user, subscribed=subscribed, now=timezone.now(), via="page")
            messages.success(request, _("You will receive the announcements of new calls.") if subscribed
                             else _("You will no longer receive call announcements."))
            return redirect("notifications")
    else:
        form = AnnouncementsForm(initial={"call_announcements": user.call_announcements})
    page = Paginator(notifications_of(user), NOTIFICATIONS_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "accounts/notifications.html", {"form": form, "page": page, "rows": decorate(page)})


@csrf_exempt  # the signed token is the proof; mail clients send RFC 8058's one-click POST without a session
@never_cache
@require_http_methods(["GET", "POST"])
def announcements_unsubscribe(request, token):
    """Stop call announcements from the link of a mail, without signing in.

    GET only asks for confirmation (mail scanners follow links); POST unsubscribes — the page's button, or
    the mail client's one-click ``List-Unsubscribe-Post``. A link that does not verify is refused.
    """
    user = announcements_user(token)
    if user is None:
        return render(request, "accounts/unsubscribe.html", {"invalid": True}, status=404)
    done = request.method == "POST"
    if done:
        announcements_set(user=user, subscribed=False, now=timezone.now(), via="link")
    return render(request, "accounts/unsubscribe.html", {"email": user.email, "done": done,
                                                         "subscribed": user.call_announcements})


@login_required
@require_GET
def api_tokens_page(request):
    """The person's API tokens; a token just created is shown here once (kept in the session until then)."""
    tokens = request.user.api_tokens.all()
    return render(request, "accounts/api_tokens.html", {
        "tokens": tokens, "form": ApiTokenForm(), "now": timezone.now(),
        "new_secret": request.session.pop("new_api_token", None),
    })


@login_required
@require_POST
@reauthentication_required
def api_token_create_view(request):
    """Creating a token asks for a recent sign-in: the password, or the two-factor code of those who use it."""
    form = ApiTokenForm(request.POST)
    if form.is_valid():
        try:
            _token, secret = api_token_create(user=request.user, now=timezone.now(), **form.cleaned_data)
        except DomainError as error:
            form.add_error(None, error)
        else:
            request.session["new_api_token"] = secret
            messages.success(request, _("Your token was created. Copy it now: it will not be shown again."))
            return redirect("api_tokens")
    return render(request, "accounts/api_tokens.html", {
        "tokens": request.user.api_tokens.all(), "form": form, "now": timezone.now()}, status=400)


@login_required
@require_POST
def api_token_revoke_view(request, pk):
    try:
        api_token_revoke(user=request.user, token_id=pk, now=timezone.now())
    except DomainError:
        raise Http404 from None
    messages.success(request, _("The token was revoked: it no longer works."))
    return redirect("api_tokens")
