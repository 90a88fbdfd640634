"""Account mail (sign-up, address verification, password reset), rendered by allauth in the request.

It goes through the outbox like every message, but it carries one-time links: its text is kept only
until it is sent, it is not shown in the admin and it cannot be resent (the person asks again).
"""

import uuid

from django.contrib.auth import get_user_model
from django.core.mail import EmailMultiAlternatives
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from iea.notifications.domain import notify
from iea.notifications.kinds import Kind, Recipient, register


def _build(target, notification) -> EmailMultiAlternatives:
    params = notification.params
    message = EmailMultiAlternatives(subject=params["subject"], body=params["body"], from_email=params["from_email"],
                                     to=[notification.email])
    if params.get("html"):
        message.attach_alternative(params["html"], "text/html")
    return message


register(Kind(name="account", label=_("Account message"), template=None, model=None, context=lambda t, n: {},
              build=_build, resendable=False))


def notify_account_mail(*, subject: str, body: str, html: str | None, from_email: str, to: list[str], now):
    users = {u.email.lower(): u for u in get_user_model().objects.filter(email__in=[a.lower() for a in to])}
    recipients = []
    for address in to:
        user = users.get(address.lower())
        recipients.append(Recipient.of(user) if user else Recipient(email=address, language=translation.get_language()
                                                                    or "en"))
    notify(kind="account", target=None, recipients=recipients, now=now, occurrence=uuid.uuid4().hex,
           params={"subject": subject, "body": body, "html": html or "", "from_email": from_email})
