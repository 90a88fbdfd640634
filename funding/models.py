"""Awards, their annual tranches, the annual reports that gate them, and the unit's spending.

The tranches of an award never add up to more than the award: the domain checks it, and the database
refuses it too (a trigger on PostgreSQL and SQLite, installed by ``funding.db_guards`` after migrate), so a bug or a race cannot break it.
"""

import secrets
import uuid
from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django_countries.fields import CountryField

from calls.models import Unit
from iea import formats
from proposals.models import BudgetCategory, Proposal


class AwardState(models.TextChoices):
    AWAITING = "awaiting", _("Awaiting the PI's acceptance")
    DECLINED = "declined", _("Declined by the PI")
    CANCELLED = "cancelled", _("Cancelled")
    ACTIVE = "active", _("Active")
    SUSPENDED = "suspended", _("Suspended")
    CLOSED = "closed", _("Closed")


class Award(models.Model):
    """The money a selected proposal receives, managed by the PI's unit (call text §5)."""

    proposal = models.OneToOneField(Proposal, verbose_name=_("proposal"), on_delete=models.PROTECT, related_name="award")
    unit = models.ForeignKey(Unit, verbose_name=_("managing unit"), on_delete=models.PROTECT, related_name="awards")
    amount = models.DecimalField(_("amount (€)"), max_digits=9, decimal_places=2)
    start_date = models.DateField(_("start date"))
    end_date = models.DateField(_("end date"))
    state = models.CharField(_("state"), max_length=10, choices=AwardState.choices, default=AwardState.ACTIVE)
    created_at = models.DateTimeField(_("created at"))
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    # The PI's acceptance (domain.md, "Reserve list"): accepted or declined before ``accept_by``.
    accept_by = models.DateTimeField(_("to be accepted by"), null=True, blank=True)
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    declined_at = models.DateTimeField(_("declined at"), null=True, blank=True)
    decline_reason = models.TextField(_("reason for declining"), blank=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    cancel_reason = models.TextField(_("reason for cancelling"), blank=True)
    # An approved change of partner institution (funding.domain.amendments); blank: the proposal's.
    partner_institution = models.CharField(_("partner's institution"), max_length=250, blank=True)
    partner_country = CountryField(_("partner's country"), blank=True)

    class Meta:
        ordering = ("-start_date", "id")
        verbose_name = _("award")
        verbose_name_plural = _("awards")
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="award_amount_positive"),
            models.CheckConstraint(condition=Q(end_date__gt=models.F("start_date")), name="award_ends_after_start"),
        ]

    def __str__(self):
        return f"{self.proposal.reference} — {formats.money(self.amount)}"

    @property
    def current_partner_institution(self) -> str:
        """The partner's institution now: the last approved change, else the proposal's."""
        return self.partner_institution or self.proposal.partner_institution

    @property
    def current_partner_country(self):
        return self.partner_country or self.proposal.partner_country


class TrancheState(models.TextChoices):
    PLANNED = "planned", _("Planned")
    RELEASED = "released", _("Released")
    WITHHELD = "withheld", _("Withheld")


class Tranche(models.Model):
    """One annual instalment. Tranche 2 is released only after the year-1 reports are approved."""

    award = models.ForeignKey(Award, verbose_name=_("award"), on_delete=models.CASCADE, related_name="tranches")
    number = models.PositiveSmallIntegerField(_("tranche"), validators=[MinValueValidator(1)])
    planned_date = models.DateField(_("planned date"))
    amount = models.DecimalField(_("amount (€)"), max_digits=9, decimal_places=2)
    state = models.CharField(_("state"), max_length=10, choices=TrancheState.choices, default=TrancheState.PLANNED)
    decided_at = models.DateTimeField(_("released or withheld at"), null=True, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("released or withheld by"), null=True,
                                   blank=True, on_delete=models.PROTECT, related_name="+")
    withheld_reason = models.TextField(_("reason for withholding"), blank=True)
    received_at = models.DateTimeField(_("receipt confirmed at"), null=True, blank=True)
    received_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("receipt confirmed by"), null=True,
                                    blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ("award", "number")
        verbose_name = _("tranche")
        verbose_name_plural = _("tranches")
        constraints = [
            models.UniqueConstraint(fields=["award", "number"], name="tranche_number_unique"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="tranche_amount_not_negative"),
        ]

    def __str__(self):
        return _("%(reference)s, tranche %(number)s") % {"reference": self.award.proposal.reference,
                                                         "number": self.number}


class ReportPeriod(models.TextChoices):
    YEAR_1 = "year1", _("Year 1")
    FINAL = "final", _("Final")


class ReportState(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Waiting for the partner's co-signature")
    COSIGNED = "cosigned", _("Co-signed, waiting for approval")
    CHANGES_REQUESTED = "changes", _("Changes requested")
    COSIGN_DECLINED = "declined", _("Co-signature declined by the partner")
    APPROVED = "approved", _("Approved")


# The states in which a report is in the PI's hands: written, returned for changes, or declined by the partner.
# Whether the PI may change it now also needs an active award: ``Report.editable``.
EDITABLE_REPORT_STATES = (ReportState.DRAFT, ReportState.CHANGES_REQUESTED, ReportState.COSIGN_DECLINED)
# ``Report.editable`` as a queryset filter, for the lists that select the reports to write.
EDITABLE_REPORTS = Q(state__in=EDITABLE_REPORT_STATES, award__state=AwardState.ACTIVE)


def report_folder(award_id: int) -> str:
    """The storage folder of an award's report files (the retention purge empties it)."""
    return f"reports/{award_id}"


def report_pdf_path(instance, filename):
    return f"{report_folder(instance.award_id)}/{uuid.uuid4().hex}.pdf"


class Report(models.Model):
    """The annual scientific review and financial report, written by the PI and co-signed by the partner."""

    award = models.ForeignKey(Award, verbose_name=_("award"), on_delete=models.CASCADE, related_name="reports")
    period = models.CharField(_("period"), max_length=8, choices=ReportPeriod.choices)
    state = models.CharField(_("state"), max_length=10, choices=ReportState.choices, default=ReportState.DRAFT)
    scientific_review = models.TextField(_("scientific review"), blank=True)
    scientific_pdf = models.FileField(_("scientific review (PDF, optional)"), upload_to=report_pdf_path, blank=True, max_length=200)
    scientific_pdf_sha256 = models.CharField(max_length=64, blank=True)
    cofunding_received = models.DecimalField(
        _("partner's co-funding actually received"), max_digits=12, decimal_places=2, null=True, blank=True,
        validators=[MinValueValidator(Decimal(0))],
    )
    cofunding_currency = models.CharField(_("currency"), max_length=3, blank=True)
    updated_at = models.DateTimeField(_("last saved at"))
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    cosigned_at = models.DateTimeField(_("co-signed at"), null=True, blank=True)
    cosigned_by = models.CharField(_("co-signed by"), max_length=250, blank=True)
    # The partner's refusal to co-sign, for the PI to address (kept after the report is submitted again).
    cosign_declined_at = models.DateTimeField(_("co-signature declined at"), null=True, blank=True)
    cosign_declined_by = models.CharField(_("co-signature declined by"), max_length=250, blank=True)
    cosign_decline_comment = models.TextField(_("partner's comment on declining"), blank=True)
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("reviewed by"), null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+")
    review_comment = models.TextField(_("comment of the reviewer of the report"), blank=True)

    class Meta:
        ordering = ("award", "period")
        verbose_name = _("annual report")
        verbose_name_plural = _("annual reports")
        constraints = [models.UniqueConstraint(fields=["award", "period"], name="report_once_per_period")]

    def __str__(self):
        return f"{self.award.proposal.reference} — {self.get_period_display()}"

    @property
    def editable(self) -> bool:
        """Whether the PI may change the report now: in the PI's hands (``EDITABLE_REPORT_STATES``) and its
        award active. The one answer for the pages, the templates, the next actions and the reminders;
        ``funding.domain.reports.report_edit_refusal`` says why not."""
        return self.state in EDITABLE_REPORT_STATES and self.award.state == AwardState.ACTIVE


class ReportSpending(models.Model):
    """The financial report: what was spent in each category over the period."""

    report = models.ForeignKey(Report, verbose_name=_("annual report"), on_delete=models.CASCADE, related_name="spending")
    category = models.CharField(_("category"), max_length=16, choices=BudgetCategory.choices)
    amount = models.DecimalField(_("amount (€)"), max_digits=9, decimal_places=2, default=Decimal(0))

    class Meta:
        ordering = ("report", "category")
        constraints = [
            models.UniqueConstraint(fields=["report", "category"], name="report_spending_unique"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="report_spending_not_negative"),
        ]
        verbose_name = _("reported spending")
        verbose_name_plural = _("reported spending")

    def __str__(self):
        return f"{self.category}: {self.amount}"


def new_nonce() -> str:
    return secrets.token_urlsafe(24)


class CosignInvitation(models.Model):
    """A signed, expiring link through which the partner co-signs a report without an account."""

    report = models.ForeignKey(Report, verbose_name=_("annual report"), on_delete=models.CASCADE, related_name="cosign_invitations")
    email = models.EmailField(_("sent to"))
    nonce = models.CharField(max_length=64, unique=True, default=new_nonce, editable=False)
    created_at = models.DateTimeField(_("sent at"))
    expires_at = models.DateTimeField(_("expires at"))
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        ordering = ("-created_at",)
        verbose_name = _("co-signature invitation")
        verbose_name_plural = _("co-signature invitations")

    def __str__(self):
        return f"{self.report} → {self.email}"


class SpendingLine(models.Model):
    """One expense recorded by the unit manager against the award."""

    award = models.ForeignKey(Award, verbose_name=_("award"), on_delete=models.CASCADE, related_name="spending_lines")
    date = models.DateField(_("date"))
    category = models.CharField(_("category"), max_length=16, choices=BudgetCategory.choices)
    amount = models.DecimalField(_("amount (€)"), max_digits=9, decimal_places=2)
    description = models.CharField(_("description"), max_length=300)
    recorded_at = models.DateTimeField(_("recorded at"))
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("recorded by"), on_delete=models.PROTECT,
                                    related_name="+")

    class Meta:
        ordering = ("award", "-date", "-id")
        verbose_name = _("spending line")
        verbose_name_plural = _("spending lines")
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="spending_amount_positive")]

    def __str__(self):
        return f"{self.date} {self.category} {self.amount}"


class AwardBudgetLine(models.Model):
    """The award's budget plan, per year and category: what a transfer moves money between. It starts as
    the proposal's budget scaled to the amount awarded (``funding.domain.versions.initial_budget_plan``)
    and always adds up to the award."""

    award = models.ForeignKey(Award, verbose_name=_("award"), on_delete=models.CASCADE, related_name="budget_lines")
    year = models.PositiveSmallIntegerField(_("year"), validators=[MinValueValidator(1)])
    category = models.CharField(_("category"), max_length=16, choices=BudgetCategory.choices)
    amount = models.DecimalField(_("amount (€)"), max_digits=9, decimal_places=2, default=Decimal(0))

    class Meta:
        ordering = ("award", "year", "category")
        verbose_name = _("award budget line")
        verbose_name_plural = _("award budget plan")
        constraints = [
            models.UniqueConstraint(fields=["award", "year", "category"], name="award_budget_line_unique"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="award_budget_not_negative"),
        ]

    def __str__(self):
        return f"{self.year} {self.category} {self.amount}"


class AmendmentKind(models.TextChoices):
    EXTENSION = "extension", _("No-cost extension")
    TRANSFER = "transfer", _("Budget transfer")
    INSTITUTION = "institution", _("Change of partner institution")


class AmendmentState(models.TextChoices):
    REQUESTED = "requested", _("Waiting for the unit's opinion")
    OPINION = "opinion", _("Waiting for the directorate's decision")
    APPROVED = "approved", pgettext_lazy("an amendment", "Approved")
    REFUSED = "refused", pgettext_lazy("an amendment", "Refused")
    WITHDRAWN = "withdrawn", pgettext_lazy("an amendment", "Withdrawn by the PI")


# The states of an amendment still to decide: one of a kind at a time per award (a database constraint).
OPEN_AMENDMENT_STATES = (AmendmentState.REQUESTED, AmendmentState.OPINION)


class UnitOpinion(models.TextChoices):
    FAVOURABLE = "favourable", _("Favourable")
    UNFAVOURABLE = "unfavourable", _("Unfavourable")


class Amendment(models.Model):
    """A change to an active award asked by the PI (domain.md, "Amendments"): a no-cost extension, a
    transfer between budget lines, or a change of the partner's institution. The unit manager gives an
    opinion; staff approve or refuse it; an approved one makes a new ``AwardVersion``."""

    award = models.ForeignKey(Award, verbose_name=_("award"), on_delete=models.CASCADE, related_name="amendments")
    kind = models.CharField(_("kind"), max_length=12, choices=AmendmentKind.choices)
    state = models.CharField(_("state"), max_length=10, choices=AmendmentState.choices,
                             default=AmendmentState.REQUESTED)
    reason = models.TextField(_("reason"))
    requested_at = models.DateTimeField(_("asked at"))
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("asked by"), on_delete=models.PROTECT,
                                     related_name="+")
    # A no-cost extension.
    months = models.PositiveSmallIntegerField(_("months"), null=True, blank=True)
    new_end_date = models.DateField(_("new end date"), null=True, blank=True)
    # A transfer: this amount from one budget line (year × category) to another.
    from_year = models.PositiveSmallIntegerField(_("from year"), null=True, blank=True)
    from_category = models.CharField(_("from category"), max_length=16, choices=BudgetCategory.choices, blank=True)
    to_year = models.PositiveSmallIntegerField(_("to year"), null=True, blank=True)
    to_category = models.CharField(_("to category"), max_length=16, choices=BudgetCategory.choices, blank=True)
    amount = models.DecimalField(_("amount (€)"), max_digits=9, decimal_places=2, null=True, blank=True)
    # A change of partner institution.
    new_institution = models.CharField(_("new partner institution"), max_length=250, blank=True)
    new_country = CountryField(_("new partner country"), blank=True)
    # The unit manager's opinion.
    opinion = models.CharField(_("unit's opinion"), max_length=12, choices=UnitOpinion.choices, blank=True)
    opinion_comment = models.TextField(_("unit's comment"), blank=True)
    opinion_at = models.DateTimeField(_("opinion given at"), null=True, blank=True)
    opinion_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("opinion given by"), null=True,
                                   blank=True, on_delete=models.PROTECT, related_name="+")
    # The directorate's decision (a reason is required to refuse), or the PI's withdrawal.
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("decided by"), null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")
    decision_reason = models.TextField(_("reason for the decision"), blank=True)
    withdrawn_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True)

    class Meta:
        ordering = ("-requested_at", "-id")
        verbose_name = _("amendment")
        verbose_name_plural = _("amendments")
        constraints = [
            models.UniqueConstraint(fields=["award", "kind"], condition=Q(state__in=OPEN_AMENDMENT_STATES),
                                    name="amendment_one_open_per_kind"),
            models.CheckConstraint(condition=Q(amount__isnull=True) | Q(amount__gt=0), name="amendment_amount_positive"),
        ]

    def __str__(self):
        return f"{self.award.proposal.reference} — {self.get_kind_display()}"

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_AMENDMENT_STATES


class AwardVersion(models.Model):
    """The award as it stood after each approved amendment: version 1 is the award as created. ``data``
    freezes the amount, dates, tranches, budget plan and partner institution (``versions.award_snapshot``)."""

    award = models.ForeignKey(Award, verbose_name=_("award"), on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveSmallIntegerField(_("version"), validators=[MinValueValidator(1)])
    created_at = models.DateTimeField(_("created at"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("created by"), null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")
    amendment = models.OneToOneField(Amendment, verbose_name=_("amendment"), null=True, blank=True,
                                     on_delete=models.PROTECT, related_name="version")
    data = models.JSONField(_("the award as it stood"))

    class Meta:
        ordering = ("award", "number")
        verbose_name = _("award version")
        verbose_name_plural = _("award versions")
        constraints = [models.UniqueConstraint(fields=["award", "number"], name="award_version_unique")]

    def __str__(self):
        return _("%(reference)s, version %(number)s") % {"reference": self.award.proposal.reference,
                                                         "number": self.number}
