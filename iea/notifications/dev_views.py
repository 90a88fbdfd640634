"""A development-only page that shows the mails the outbox sent, so the partner's invitation link or a
co-signature link can be followed without digging it out of the console's raw MIME.

It exists only while ``settings.DEBUG`` is on, and then for anyone: in the demo the partner has no account.
DEBUG is read on each request (not when the URLs load), so with DEBUG off it answers 404 like an unknown URL.
"""

from django.conf import settings
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import render
from django.views.decorators.http import require_GET

from .kinds import kind_label
from .models import Notification

MAILS_PER_PAGE = 20


@require_GET
def mail_viewer(request):
    if not settings.DEBUG:
        raise Http404
    sent = (
        Notification.objects.filter(sent_at__isnull=False)
        .only("kind", "email", "subject", "body", "language", "sent_at")
        .order_by("-sent_at", "-id")
    )
    page = Paginator(sent, MAILS_PER_PAGE).get_page(request.GET.get("page"))
    mails = list(page)
    for mail in mails:
        mail.kind_label = kind_label(mail.kind)
    return render(request, "notifications/dev_mails.html", {"page": page, "mails": mails})
