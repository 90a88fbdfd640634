"""The outbox: one row per message to one recipient, recorded before it is sent.

A row is written in the transaction of the change it reports (or by the dispatcher, for reminders), so a
committed change always has its message on record. ``(kind, object, recipient, occurrence)`` is unique:
recording the same message twice — a redelivered task, two dispatchers at once — leaves one row, and a
worker claims a row before sending it, so a message goes out once.
"""

import uuid

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils.translation import gettext_lazy as _


class NotificationState(models.TextChoices):
    PENDING = "pending", _("Waiting to be sent")
    SENDING = "sending", _("Being sent")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
    SKIPPED = "skipped", _("Not sent (no longer relevant)")


class Notification(models.Model):
    kind = models.CharField(_("kind"), max_length=40)
    content_type = models.ForeignKey(ContentType, verbose_name=_("content type"), null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    object_id = models.PositiveBigIntegerField(_("object"), null=True, blank=True)
    target = GenericForeignKey("content_type", "object_id")
    occurrence = models.CharField(
        _("occurrence"), max_length=64, blank=True,
        help_text=_("Which message of this kind about this object: a reminder's step (\"-7\" days) or the time "
                    "of the event it reports."),
    )
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("recipient"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="notifications",
    )
    email = models.EmailField(_("e-mail address"))
    language = models.CharField(_("language"), max_length=8, default="en")
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    due_at = models.DateTimeField(_("due"))
    state = models.CharField(
        _("state"), max_length=8, choices=NotificationState.choices, default=NotificationState.PENDING
    )
    created_at = models.DateTimeField(_("recorded at"))
    enqueued_at = models.DateTimeField(_("queued at"), null=True, blank=True)
    claim = models.UUIDField(null=True, blank=True, editable=False)
    claimed_at = models.DateTimeField(_("claimed at"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    subject = models.CharField(_("subject"), max_length=300, blank=True)
    body = models.TextField(_("text as sent"), blank=True)
    resend_of = models.ForeignKey(
        "self", verbose_name=_("resend of"), null=True, blank=True, on_delete=models.SET_NULL, related_name="resends"
    )

    class Meta:
        ordering = ("-created_at", "-id")
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "content_type", "object_id", "email", "occurrence"], name="notification_once"
            ),
        ]
        indexes = [
            models.Index(fields=["state", "next_attempt_at"], name="notification_state_idx"),
            models.Index(fields=["content_type", "object_id", "kind"], name="notification_target_idx"),
            models.Index(fields=["claim"], name="notification_claim_idx"),
        ]

    def __str__(self):
        return f"{self.kind} → {self.email}"

    @staticmethod
    def new_claim() -> uuid.UUID:
        return uuid.uuid4()
