"""Templated mail in the recipient's language, plain text and HTML.

Each message is three templates: ``<name>_subject.txt``, ``<name>.txt`` and ``<name>.html`` under
``templates/mail/``. Messages are not sent from here: the outbox (``iea.notifications``) records each
one, claims it and sends what this builds.
"""

import re

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import translation


def build_message(
    *, name: str, to: list[str], language: str, context: dict, attachments=(), headers: dict | None = None,
) -> EmailMultiAlternatives:
    with translation.override(language):
        context = {"site_url": settings.SITE_URL, "organisation": settings.ORGANISATION_NAME,
                   "LANGUAGE_CODE": translation.get_language(), **context}
        # One line; only ASCII whitespace collapses, so "1er juin 2027" keeps its no-break spaces.
        subject = re.sub(r"[ \t\r\n]+", " ", render_to_string(f"mail/{name}_subject.txt", context)).strip()
        text = render_to_string(f"mail/{name}.txt", context)
        html = render_to_string(f"mail/{name}.html", context)
    message = EmailMultiAlternatives(subject=subject, body=text, to=to, headers=headers or {})
    message.attach_alternative(html, "text/html")
    for filename, content, mimetype in attachments:
        message.attach(filename, content, mimetype)
    return message
