from allauth.account.adapter import DefaultAccountAdapter
from django.utils import timezone, translation

from .notifications import notify_account_mail


class AccountAdapter(DefaultAccountAdapter):
    """Remembers the language a person signed up in, and sends account mail through the outbox."""

    def save_user(self, request, user, form, commit=True):
        user.language = translation.get_language() or user.language
        return super().save_user(request, user, form, commit=commit)

    def send_mail(self, template_prefix, email, context):
        # Rendered here, in the request and its language (links need the request); sent by a task.
        from allauth.core import context as allauth_context
        from django.contrib.sites.shortcuts import get_current_site

        request = allauth_context.request
        message = self.render_mail(
            template_prefix, email, {"request": request, "email": email, "current_site": get_current_site(request), **context}
        )
        html = next((content for content, mimetype in getattr(message, "alternatives", []) if mimetype == "text/html"), None)
        if message.content_subtype == "html":
            html, body = message.body, ""
        else:
            body = message.body
        notify_account_mail(subject=message.subject, body=body, html=html, from_email=message.from_email,
                            to=list(message.to), now=timezone.now())
