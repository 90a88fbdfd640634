from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from .calendar import deadlines_for, render_ics
from .domain import calendar_key_reset


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
