from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from calls.models import Institute


class Reviewer(models.Model):
    """A person in an institute's reviewer pool. Reviewers may be external to CNRS (e-mail sign-in)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reviewer_profiles")
    institute = models.ForeignKey(Institute, verbose_name=_("institute"), on_delete=models.PROTECT, related_name="reviewers")
    institution = models.CharField(_("institution"), max_length=250, blank=True)
    keywords = models.CharField(_("expertise keywords"), max_length=400, blank=True)
    sections = models.CharField(_("CNRS sections"), max_length=100, blank=True, help_text=_("e.g. 11, 14"))
    external = models.BooleanField(_("external to CNRS"), default=False)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ("institute", "user__email")
        verbose_name = _("reviewer")
        verbose_name_plural = _("reviewers")
        constraints = [models.UniqueConstraint(fields=["user", "institute"], name="reviewer_once_per_institute")]

    def __str__(self):
        return f"{self.user} ({self.institute.code})"
