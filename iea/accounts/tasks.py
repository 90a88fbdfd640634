from celery import shared_task
from django.core.mail import EmailMultiAlternatives


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_rendered_mail(*, subject: str, body: str, from_email: str, to: list[str], html: str | None = None) -> None:
    """Send a message rendered in the request (sign-up, verification, password reset)."""
    message = EmailMultiAlternatives(subject=subject, body=body, from_email=from_email, to=to)
    if html:
        message.attach_alternative(html, "text/html")
    message.send()
