import re
from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField

from iea.i18n import Localized
from iea.text import fold


class Institute(models.Model):
    """One of the 10 CNRS institutes. Both names are kept; the usage name (since 2024) is shown."""

    code = models.CharField(_("code"), max_length=10, unique=True)
    legal_name = models.CharField(_("legal name"), max_length=200)
    usage_name = models.CharField(_("usage name"), max_length=200)
    officers = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("international officers"), blank=True,
        related_name="officer_of_institutes",
    )

    class Meta:
        ordering = ("code",)
        verbose_name = _("institute")
        verbose_name_plural = _("institutes")

    def __str__(self):
        return f"{self.usage_name} ({self.code})"


class Delegation(models.Model):
    """One of the 17 regional delegations, the administrative home of units."""

    code = models.CharField(_("code"), max_length=10, unique=True)
    name = models.CharField(_("name"), max_length=200, unique=True)

    class Meta:
        ordering = ("name",)
        verbose_name = _("regional delegation")
        verbose_name_plural = _("regional delegations")

    def __str__(self):
        return self.name


class UnitType(models.TextChoices):
    UMR = "UMR", "UMR"
    UPR = "UPR", "UPR"
    UAR = "UAR", "UAR"
    IRL = "IRL", "IRL"
    EMR = "EMR", "EMR"
    FRE = "FRE", "FRE"
    UMI = "UMI", "UMI"
    FR = "FR", "FR"


UNIT_CODE_RE = re.compile(r"^\s*([A-Za-z]{2,3})\s*[-_]?\s*(\d{1,4})\s*$")


def parse_unit_code(text: str) -> tuple[str, str] | None:
    """``"umr5558"``, ``"UMR 5558"`` and ``"UMR-5558"`` all give ``("UMR", "5558")``; nonsense gives None."""
    match = UNIT_CODE_RE.match(text or "")
    if not match:
        return None
    unit_type = match.group(1).upper()
    if unit_type not in UnitType.values:
        return None
    return unit_type, match.group(2).zfill(4)


class UnitQuerySet(models.QuerySet):
    def by_code(self, text: str):
        parsed = parse_unit_code(text)
        if parsed is None:
            return self.none()
        return self.filter(unit_type=parsed[0], number=parsed[1])

    def matching(self, text: str):
        """The units whose ``search_text`` holds every word of ``text``, folded: the code in any spelling
        (``umr5558``, ``UMR 5558``, ``5558``), the acronym, words of the name, the city; case, accents and
        punctuation ignored."""
        matches = Q()
        for word in fold(text).split():
            matches &= Q(search_text__contains=word)
        return self.filter(matches)

    def bulk_create(self, objs, *args, **kwargs):
        # ``save`` is not called: the search text is written here instead (benchmarks/dataset.py).
        objs = list(objs)
        for unit in objs:
            unit.search_text = unit.searchable_text()
        return super().bulk_create(objs, *args, **kwargs)


class Unit(models.Model):
    """A CNRS research unit, known by its type and 4-digit number (``UMR 5558``)."""

    unit_type = models.CharField(_("type"), max_length=4, choices=UnitType.choices)
    number = models.CharField(_("number"), max_length=4)
    acronym = models.CharField(_("acronym"), max_length=40, blank=True)
    name = models.CharField(_("name"), max_length=300)
    delegation = models.ForeignKey(Delegation, verbose_name=_("regional delegation"), on_delete=models.PROTECT)
    main_institute = models.ForeignKey(
        Institute, verbose_name=_("main institute"), on_delete=models.PROTECT, related_name="main_units"
    )
    secondary_institutes = models.ManyToManyField(
        Institute, verbose_name=_("secondary institutes"), blank=True, related_name="secondary_units"
    )
    city = models.CharField(_("city"), max_length=100, blank=True)
    managers = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("unit managers"), blank=True, related_name="managed_units"
    )
    # What the unit search reads (calls.selectors.units_search): the code in both spellings, the acronym, the
    # name and the city, folded (iea.text.fold), so the database finds "écologie" by "ECOLOGIE" on SQLite and
    # PostgreSQL alike. Written by ``save`` and ``bulk_create``; never edited.
    search_text = models.TextField(editable=False, default="")

    objects = UnitQuerySet.as_manager()

    class Meta:
        ordering = ("unit_type", "number")
        verbose_name = _("unit")
        verbose_name_plural = _("units")
        constraints = [
            models.UniqueConstraint(fields=["unit_type", "number"], name="unit_code_unique"),
            models.CheckConstraint(condition=Q(number__regex=r"^[0-9]{4}$"), name="unit_number_4_digits"),
        ]

    def __str__(self):
        return f"{self.code} {self.acronym}".strip()

    def save(self, *args, **kwargs):
        self.unit_type = self.unit_type.upper()
        self.number = (self.number or "").strip().zfill(4)
        self.search_text = self.searchable_text()
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], "search_text"}
        super().save(*args, **kwargs)

    def searchable_text(self) -> str:
        """The unit's ``search_text``, from its current fields."""
        number = (self.number or "").strip().zfill(4)
        return fold(f"{self.unit_type} {number} {self.unit_type}{number} {self.acronym} {self.name} {self.city}")

    @property
    def code(self) -> str:
        return f"{self.unit_type} {self.number}"

    def evaluating_institutes(self) -> models.QuerySet:
        """The institutes that may evaluate a proposal of this unit: its main institute and its secondary
        ones (call text §4). ``may_be_evaluated_by`` is the same rule for one institute."""
        return Institute.objects.filter(Q(pk=self.main_institute_id) | Q(secondary_units=self)).distinct()

    def may_be_evaluated_by(self, institute_id: int) -> bool:
        """Whether ``institute_id`` is one of ``evaluating_institutes``. Reads the secondary institutes
        through ``secondary_institutes.all()``, so a prefetch serves many units without a query each."""
        return institute_id == self.main_institute_id or any(
            institute.pk == institute_id for institute in self.secondary_institutes.all())


class CallState(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")
    OPEN = "open", _("Open")
    CLOSED = "closed", _("Closed")
    IN_REVIEW = "in_review", _("In review")
    DECIDED = "decided", _("Decided")
    ARCHIVED = "archived", _("Archived")


PUBLIC_CALL_STATES = [s for s in CallState.values if s != CallState.DRAFT]


class ReminderDays(models.CharField):
    """Days relative to a deadline, comma-separated, negative before it: "-14,-7,-1"."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_length", 60)
        kwargs.setdefault("validators", [RegexValidator(
            r"^\s*[+-]?\d{1,3}(\s*,\s*[+-]?\d{1,3})*\s*$",
            _("Enter whole numbers of days separated by commas, negative before the deadline, e.g. -14,-7,-1."),
        )])
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, _path, args, kwargs = super().deconstruct()
        kwargs.pop("validators", None)
        if kwargs.get("max_length") == 60:
            kwargs.pop("max_length")
        return name, "calls.models.ReminderDays", args, kwargs


class Call(models.Model):
    """One yearly call. Its rules are its own copy, so a later call can change them without touching the past.

    Whether proposals can be submitted is decided at request time from ``state``, ``opens_at``,
    ``closes_at`` and ``grace_minutes`` (see ``calls.domain.call_accepts_submissions``), never by a job.
    """

    year = models.PositiveIntegerField(_("year"), unique=True)
    title_fr = models.CharField(_("title (French)"), max_length=200)
    title_en = models.CharField(_("title (English)"), max_length=200)
    summary_fr = models.TextField(_("summary (French)"), blank=True)
    summary_en = models.TextField(_("summary (English)"), blank=True)
    rules_fr = models.TextField(_("rules (French)"), blank=True)
    rules_en = models.TextField(_("rules (English)"), blank=True)
    state = models.CharField(_("state"), max_length=16, choices=CallState.choices, default=CallState.DRAFT)
    opens_at = models.DateTimeField(_("opens at"))
    closes_at = models.DateTimeField(_("closes at"))
    grace_minutes = models.PositiveIntegerField(
        _("grace period (minutes)"), default=0,
        help_text=_("Submissions are still accepted this many minutes after the closing time."),
    )
    budget_min = models.DecimalField(
        _("minimum total budget (€)"), max_digits=9, decimal_places=2, default=Decimal("10000"),
        validators=[MinValueValidator(0)],
    )
    budget_max = models.DecimalField(
        _("maximum total budget (€)"), max_digits=9, decimal_places=2, default=Decimal("14000"),
        validators=[MinValueValidator(0)],
    )
    total_envelope = models.DecimalField(
        _("total budget envelope (€)"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    duration_months = models.PositiveSmallIntegerField(_("project duration (months)"), default=24)
    overall_threshold = models.DecimalField(
        _("overall threshold"), max_digits=4, decimal_places=1, null=True, blank=True,
        validators=[MinValueValidator(0)],
        help_text=_("The weighted total of the mean scores (on the criteria's scale) a proposal needs to be "
                    "funded; empty for none. Each criterion may also have its own threshold."),
    )
    # The reserve list (domain.md, "After the decision"): a selected PI accepts the award within this time.
    award_acceptance_days = models.PositiveSmallIntegerField(
        _("days to accept an award"), default=30, validators=[MinValueValidator(1)],
        help_text=_("From the decision mail; the PI is reminded 7 days before. An award not accepted in time "
                    "can be cancelled and its amount given to the reserve list."),
    )
    # Amendments after the award (domain.md, "Amendments"): "a few months". Six is half a year of a two-year
    # action, enough for a field season or a visa that moved, short of a second project (config; 0 disables).
    max_extension_months = models.PositiveSmallIntegerField(
        _("maximum no-cost extension (months)"), default=6,
        help_text=_("In total over all the extensions of an award; 0 means awards of this call cannot be extended."),
    )
    reviews_per_proposal = models.PositiveSmallIntegerField(
        _("reviews per proposal"), default=2, validators=[MinValueValidator(1)],
        help_text=_("Completed, non-conflicted reviews each proposal needs (usually 2)."),
    )
    max_active_proposals_per_pi = models.PositiveSmallIntegerField(
        _("maximum active proposals per PI"), default=1, validators=[MinValueValidator(1)]
    )
    excluded_countries = CountryField(
        _("excluded partner countries"), multiple=True, blank=True,
        help_text=_("New collaborations with these countries are not accepted in this call."),
    )
    # Reminders (domain.md, notifications): days relative to a deadline, negative before it.
    draft_reminder_days = ReminderDays(
        _("reminders of unsubmitted drafts"), default="-14,-7,-1",
        help_text=_("Days before closing, e.g. -14,-7,-1. Sent to PIs whose proposal is not submitted."),
    )
    letter_reminder_days = ReminderDays(
        _("reminders of a missing support letter"), default="-7",
        help_text=_("Days before closing. The PI is reminded and the partner invited again."),
    )
    review_reminder_days = ReminderDays(
        _("reminders of reviews due"), default="-7,-2,1",
        help_text=_("Days relative to the review's due date (1 = a day late)."),
    )
    review_escalation_days = models.PositiveSmallIntegerField(
        _("officer told of a late review after (days)"), default=3,
    )
    report_reminder_days = ReminderDays(
        _("reminders of annual reports due"), default="-30,-7,1",
        help_text=_("Days relative to the report's due date (1 = overdue)."),
    )
    # Personal data (GDPR, iea.site.privacy): how long the proposals keep it once the call has closed (an
    # award's data: once it has closed). No rule of the call text; 5 years is the default (config).
    retention_years = models.PositiveSmallIntegerField(
        _("retention period (years)"), default=5, validators=[MinValueValidator(1)],
        help_text=_("The personal data of the proposals is erased this many years after the call closed "
                    "(for a funded proposal: after its award closed)."),
    )
    # The public page of the call's figures (/calls/<year>/figures/): off until the directorate publishes them.
    coauthor_conflict_years = models.PositiveSmallIntegerField(
        _("co-authorship conflict window (years)"), default=5, validators=[MinValueValidator(1)],
        help_text=_("A reviewer who co-published with the PI, a team member or the partner in this many past years "
                    "is in conflict with the proposal."),
    )
    outcome_to_reviewers = models.BooleanField(
        _("tell reviewers the outcome"), default=False,
        help_text=_("After the decision mails, reviewers see the outcome and the panel's consensus of the proposals "
                    "they reviewed."),
    )
    figures_public = models.BooleanField(
        _("figures public"), default=False,
        help_text=_("Anyone may read the call's headline figures: proposals submitted, eligible, selected and "
                    "funded, success rates, by institute and partner country — never a proposal's amount."),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    title = Localized()
    summary = Localized()
    rules = Localized()

    class Meta:
        ordering = ("-year",)
        verbose_name = _("call")
        verbose_name_plural = _("calls")
        constraints = [
            models.CheckConstraint(condition=Q(closes_at__gt=F("opens_at")), name="call_closes_after_opening"),
            models.CheckConstraint(condition=Q(budget_max__gte=F("budget_min")), name="call_budget_bounds_ordered"),
            models.CheckConstraint(condition=Q(duration_months__gte=12), name="call_duration_at_least_a_year"),
        ]

    def __str__(self):
        return self.title

    @property
    def budget_years(self) -> int:
        return max(1, (self.duration_months + 11) // 12)


class CallDeadlineChange(models.Model):
    """A logged change of a call's closing time (extension or early closing) with its reason."""

    call = models.ForeignKey(Call, verbose_name=_("call"), on_delete=models.CASCADE, related_name="deadline_changes")
    changed_at = models.DateTimeField(_("changed at"))
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("changed by"), on_delete=models.PROTECT, related_name="+")
    old_closes_at = models.DateTimeField(_("previous closing time"))
    new_closes_at = models.DateTimeField(_("new closing time"))
    reason = models.TextField(_("reason"))

    class Meta:
        ordering = ("-changed_at",)
        verbose_name = _("deadline change")
        verbose_name_plural = _("deadline changes")

    def __str__(self):
        return f"{self.call}: {self.old_closes_at:%Y-%m-%d %H:%M} → {self.new_closes_at:%Y-%m-%d %H:%M}"


class InstitutePriority(models.Model):
    """Thematic or geographic priorities an institute publishes for its units in one call (call text §3)."""

    call = models.ForeignKey(Call, verbose_name=_("call"), on_delete=models.CASCADE, related_name="priorities")
    institute = models.ForeignKey(Institute, verbose_name=_("institute"), on_delete=models.PROTECT)
    themes_fr = models.TextField(_("priority themes (French)"), blank=True)
    themes_en = models.TextField(_("priority themes (English)"), blank=True)
    priority_countries = CountryField(_("priority countries"), multiple=True, blank=True)

    themes = Localized()

    class Meta:
        ordering = ("institute__code",)
        verbose_name = _("institute priority")
        verbose_name_plural = _("institute priorities")
        constraints = [models.UniqueConstraint(fields=["call", "institute"], name="priority_one_per_institute")]

    def __str__(self):
        return f"{self.call} — {self.institute.code}"


class Criterion(models.Model):
    """One evaluation criterion as this call words and weighs it (domain.md: six, seeded in order)."""

    call = models.ForeignKey(Call, verbose_name=_("call"), on_delete=models.CASCADE, related_name="criteria")
    position = models.PositiveSmallIntegerField(_("order"))
    label_fr = models.CharField(_("label (French)"), max_length=200)
    label_en = models.CharField(_("label (English)"), max_length=200)
    guidance_fr = models.TextField(_("guidance (French)"), blank=True)
    guidance_en = models.TextField(_("guidance (English)"), blank=True)
    scale_max = models.DecimalField(_("maximum score"), max_digits=4, decimal_places=1, default=Decimal("5"))
    step = models.DecimalField(_("score step"), max_digits=3, decimal_places=1, default=Decimal("0.5"))
    weight = models.DecimalField(_("weight"), max_digits=5, decimal_places=2, default=Decimal("1"))
    threshold = models.DecimalField(_("threshold"), max_digits=4, decimal_places=1, null=True, blank=True)

    label = Localized()
    guidance = Localized()

    class Meta:
        ordering = ("call", "position")
        verbose_name = _("criterion")
        verbose_name_plural = _("criteria")
        constraints = [
            models.UniqueConstraint(fields=["call", "position"], name="criterion_position_unique"),
            models.CheckConstraint(condition=Q(scale_max__gt=0) & Q(step__gt=0) & Q(weight__gte=0), name="criterion_scale_valid"),
        ]

    def __str__(self):
        return f"{self.position}. {self.label}"
