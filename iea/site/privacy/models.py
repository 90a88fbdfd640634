"""Personal data (GDPR): the requests for erasure, and the record of each proposal anonymised once its
retention period had passed. Written only by ``iea.site.privacy.domain``."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class ErasureState(models.TextChoices):
    PENDING = "pending", _("Waiting for the directorate")
    DONE = "done", _("Done: the account is erased")
    REFUSED = "refused", _("Refused")


class ErasureRequest(models.Model):
    """A person asks for their account to be erased. Staff process it: the account is anonymised, or the
    request is refused with the reasons (a retention period that has not passed, an award still running).

    ``blockers`` holds the retention reasons as data (``retention.Blocker``), so that the page and the
    mail say them in the reader's language; ``refusal_reason`` is the text staff typed, if they refused.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("person"), on_delete=models.PROTECT, related_name="erasure_requests"
    )
    state = models.CharField(_("state"), max_length=8, choices=ErasureState.choices, default=ErasureState.PENDING)
    reason = models.TextField(_("the person's reason"), blank=True)
    requested_at = models.DateTimeField(_("requested at"))
    processed_at = models.DateTimeField(_("processed at"), null=True, blank=True)
    processed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("processed by"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    blockers = models.JSONField(_("what retention forbids"), default=list, blank=True)
    refusal_reason = models.TextField(_("reason for refusing"), blank=True)
    retained_until = models.DateTimeField(
        _("data retained until"), null=True, blank=True,
        help_text=_("When the refusal was for retention: the earliest moment the erasure could be done, if known."),
    )

    class Meta:
        ordering = ("-requested_at", "-id")
        verbose_name = _("erasure request")
        verbose_name_plural = _("erasure requests")
        constraints = [
            models.UniqueConstraint(fields=["user"], condition=Q(state="pending"), name="erasure_one_pending_per_user"),
        ]
        indexes = [models.Index(fields=["state", "requested_at"], name="erasure_state_idx")]

    def __str__(self):
        return f"{self.user} ({self.get_state_display()})"


class AnonymisationVia(models.TextChoices):
    ADMIN = "admin", _("Administration (call action)")
    COMMAND = "command", _("privacy_purge command")
    ERASURE = "erasure", _("Erasure of the PI's account")


class AnonymisedProposal(models.Model):
    """A proposal whose personal data was erased after its retention period. Its existence makes the
    anonymisation idempotent: a proposal is anonymised once."""

    proposal = models.OneToOneField(
        "proposals.Proposal", verbose_name=_("proposal"), on_delete=models.PROTECT, related_name="anonymisation"
    )
    anonymised_at = models.DateTimeField(_("anonymised at"))
    anonymised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("anonymised by"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    via = models.CharField(_("through"), max_length=8, choices=AnonymisationVia.choices)
    erased = models.JSONField(_("what was erased"), default=dict, blank=True)

    class Meta:
        ordering = ("-anonymised_at", "-id")
        verbose_name = _("anonymised proposal")
        verbose_name_plural = _("anonymised proposals")

    def __str__(self):
        return f"{self.proposal_id} @ {self.anonymised_at:%Y-%m-%d}"
