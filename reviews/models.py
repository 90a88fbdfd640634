"""Peer review inside the institutes: pools, panels, conflicts, assignments, reviews, recommendations, decisions."""

import datetime as dt
from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from calls.models import Call, Criterion, Institute, Unit
from proposals.models import Proposal, ProposalState


class Reviewer(models.Model):
    """A person in an institute's reviewer pool. Reviewers may be external to CNRS (e-mail sign-in)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="reviewer_profiles")
    institute = models.ForeignKey(Institute, verbose_name=_("institute"), on_delete=models.PROTECT, related_name="reviewers")
    unit = models.ForeignKey(
        Unit, verbose_name=_("CNRS unit"), null=True, blank=True, on_delete=models.SET_NULL, related_name="reviewers",
        help_text=_("For CNRS reviewers: used to detect conflicts of interest."),
    )
    institution = models.CharField(_("institution"), max_length=250, blank=True)
    keywords = models.CharField(_("expertise keywords"), max_length=400, blank=True, help_text=_("Separated by commas."))
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


class Panel(models.Model):
    """The review of one call inside one institute, run by its officers."""

    call = models.ForeignKey(Call, verbose_name=_("call"), on_delete=models.PROTECT, related_name="panels")
    institute = models.ForeignKey(Institute, verbose_name=_("institute"), on_delete=models.PROTECT, related_name="panels")
    officers = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("officers"), blank=True, related_name="officer_panels"
    )
    reviews_per_proposal = models.PositiveSmallIntegerField(
        _("reviews per proposal"), default=2, validators=[MinValueValidator(1)],
        help_text=_("Completed, non-conflicted reviews each proposal needs."),
    )
    review_due_at = models.DateTimeField(_("reviews due"), null=True, blank=True)
    # Set when what its table counts changed (a review submitted or reopened, a conflict): the next read of the
    # table recomputes its figures (``reviews.domain.panel_figures``). New panels start without figures.
    figures_stale = models.BooleanField(default=True, editable=False)
    default_max_reviews = models.PositiveSmallIntegerField(
        _("maximum reviews per reviewer"), null=True, blank=True, validators=[MinValueValidator(1)],
        help_text=_("For reviewers without a maximum of their own. Empty: no maximum beyond the balance of loads."),
    )
    bidding_open = models.BooleanField(
        _("bidding open"), default=False,
        help_text=_("Reviewers of the pool see the panel's titles and abstracts and say which they would review."),
    )
    # When the affinities of the panel's proposals and pool were last computed (``reviews.domain.affinity``), and
    # whether something they are computed from changed since (a proposal, a profile, a publication, the pool).
    affinity_computed_at = models.DateTimeField(_("affinities computed at"), null=True, blank=True, editable=False)
    affinity_stale = models.BooleanField(default=True, editable=False)
    # When an officer last asked for them to be computed in the background: "under way" until computed after it.
    affinity_requested_at = models.DateTimeField(_("affinities requested at"), null=True, blank=True, editable=False)

    class Meta:
        ordering = ("call", "institute__code")
        verbose_name = _("panel")
        verbose_name_plural = _("panels")
        constraints = [models.UniqueConstraint(fields=["call", "institute"], name="panel_one_per_call_institute")]

    def __str__(self):
        return f"{self.call} — {self.institute.code}"


class PublicationSource(models.TextChoices):
    HAL_BIBTEX = "hal_bibtex", _("HAL export (BibTeX)")
    HAL_CSV = "hal_csv", _("HAL export (CSV)")
    HAL_TEI = "hal_tei", _("HAL export (TEI)")
    ORCID_JSON = "orcid_json", _("ORCID works (JSON)")
    HAL_API = "hal_api", _("HAL, by identifier")
    ORCID_API = "orcid_api", _("ORCID, by identifier")


class Publication(models.Model):
    """A publication of a person, imported from a HAL or ORCID export they or an officer uploaded
    (``reviews.domain.publications``). Affinity reads its text; co-author conflicts compare its authors.

    ``authors`` is a list of {"name", "orcid", "hal_id"} (identifiers empty when the export has none), in the
    export's order. ``key`` is the source's identifier of the work (HAL id, DOI or ORCID put-code, else a hash
    of title and year): importing the same export again updates rather than duplicates."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("person"), on_delete=models.CASCADE,
                             related_name="publications")
    source = models.CharField(_("source"), max_length=12, choices=PublicationSource.choices)
    key = models.CharField(_("identifier in the source"), max_length=200)
    title = models.TextField(_("title"))
    abstract = models.TextField(_("abstract"), blank=True)
    keywords = models.TextField(_("keywords"), blank=True)
    year = models.PositiveSmallIntegerField(_("year"), null=True, blank=True)
    venue = models.CharField(_("journal or conference"), max_length=400, blank=True)
    doi = models.CharField(_("DOI"), max_length=200, blank=True)
    authors = models.JSONField(_("authors"), default=list, blank=True)
    imported_at = models.DateTimeField(_("imported at"))
    imported_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("imported by"), null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ("user", "-year", "title")
        verbose_name = _("publication")
        verbose_name_plural = _("publications")
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="publication_once_per_person")]

    def __str__(self):
        return f"{self.title} ({self.year or '?'})"


class Unavailability(models.Model):
    """Dates a person cannot review (``reviews.domain.availability``): automatic assignment does not ask a
    reviewer away for most of the review period."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("person"), on_delete=models.CASCADE,
                             related_name="unavailabilities")
    starts_on = models.DateField(_("from"))
    ends_on = models.DateField(_("until (included)"))
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        ordering = ("user", "starts_on")
        verbose_name = _("unavailability")
        verbose_name_plural = _("unavailabilities")
        constraints = [models.CheckConstraint(condition=Q(ends_on__gte=F("starts_on")), name="unavailability_ordered")]

    def __str__(self):
        return f"{self.user}: {self.starts_on} – {self.ends_on}"


class ReviewerCap(models.Model):
    """The most reviews one reviewer of the pool takes in one panel (a call), overriding the panel's default."""

    panel = models.ForeignKey("Panel", verbose_name=_("panel"), on_delete=models.CASCADE, related_name="caps")
    reviewer = models.ForeignKey(Reviewer, verbose_name=_("reviewer"), on_delete=models.CASCADE, related_name="caps")
    max_reviews = models.PositiveSmallIntegerField(_("maximum reviews"))

    class Meta:
        verbose_name = _("reviewer's maximum")
        verbose_name_plural = _("reviewers' maximums")
        constraints = [models.UniqueConstraint(fields=["panel", "reviewer"], name="reviewer_cap_once_per_panel")]

    def __str__(self):
        return f"{self.reviewer}: {self.max_reviews}"


class BidValue(models.TextChoices):
    EAGER = "eager", _("Eager")
    WILLING = "willing", _("Willing")
    RATHER_NOT = "rather_not", _("Rather not")
    CONFLICT = "conflict", _("Conflict of interest")


class Bid(models.Model):
    """What a reviewer of the pool said about reviewing a proposal of the panel, before assignment. A
    "conflict" bid is recorded as a declared conflict as well (``reviews.domain.bids``)."""

    panel = models.ForeignKey("Panel", verbose_name=_("panel"), on_delete=models.CASCADE, related_name="bids")
    reviewer = models.ForeignKey(Reviewer, verbose_name=_("reviewer"), on_delete=models.CASCADE, related_name="bids")
    proposal = models.ForeignKey(Proposal, verbose_name=_("proposal"), on_delete=models.CASCADE, related_name="bids")
    value = models.CharField(_("bid"), max_length=10, choices=BidValue.choices)
    updated_at = models.DateTimeField(_("updated at"))

    class Meta:
        ordering = ("panel", "reviewer", "proposal")
        verbose_name = _("bid")
        verbose_name_plural = _("bids")
        constraints = [models.UniqueConstraint(fields=["reviewer", "proposal"], name="bid_once_per_reviewer")]

    def __str__(self):
        return f"{self.reviewer} → {self.proposal_id}: {self.value}"


class Affinity(models.Model):
    """How well a reviewer's profile and publications match a proposal (TF-IDF cosine, ``reviews.domain.affinity``),
    stored for the pairs that match at all: ``score`` from 0 to 1000 (1000 = the same text), ``terms`` the words
    that weighed most in the match, best first."""

    panel = models.ForeignKey("Panel", verbose_name=_("panel"), on_delete=models.CASCADE, related_name="affinities")
    proposal = models.ForeignKey(Proposal, verbose_name=_("proposal"), on_delete=models.CASCADE, related_name="affinities")
    reviewer = models.ForeignKey(Reviewer, verbose_name=_("reviewer"), on_delete=models.CASCADE, related_name="affinities")
    score = models.PositiveSmallIntegerField(_("affinity"))
    terms = models.JSONField(_("matching words"), default=list, blank=True)

    class Meta:
        ordering = ("proposal", "-score")
        verbose_name = _("affinity")
        verbose_name_plural = _("affinities")
        constraints = [models.UniqueConstraint(fields=["proposal", "reviewer"], name="affinity_once_per_pair")]
        indexes = [models.Index(fields=["panel", "proposal", "-score"], name="affinity_panel_proposal_idx")]

    def __str__(self):
        return f"{self.reviewer} × {self.proposal_id}: {self.score}"


class ConflictDismissal(models.Model):
    """An officer's word that a detected conflict was a false match (two people with the same name): detection
    does not record that cause for the pair again. The conflict row itself is deleted (``reviews.domain.coauthors``),
    so that every access check keeps reading conflicts alone."""

    proposal = models.ForeignKey(Proposal, verbose_name=_("proposal"), on_delete=models.CASCADE, related_name="+")
    reviewer = models.ForeignKey(Reviewer, verbose_name=_("reviewer"), on_delete=models.CASCADE, related_name="+")
    cause = models.CharField(_("cause"), max_length=40)
    detail = models.TextField(_("detail"), blank=True)
    reason = models.TextField(_("reason"))
    dismissed_at = models.DateTimeField(_("dismissed at"))
    dismissed_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("dismissed by"), null=True,
                                     on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("dismissed conflict")
        verbose_name_plural = _("dismissed conflicts")
        constraints = [models.UniqueConstraint(fields=["proposal", "reviewer", "cause"], name="conflict_dismissal_once")]

    def __str__(self):
        return f"{self.reviewer} × {self.proposal_id}: {self.cause} (dismissed)"


class ConflictSource(models.TextChoices):
    DETECTED = "detected", _("Detected")
    DECLARED = "declared", _("Declared by the reviewer")
    OFFICER = "officer", _("Set by the officer")


class Conflict(models.Model):
    """A conflict of interest between a reviewer and a proposal. It takes effect on the next request:
    every access check asks whether one exists."""

    proposal = models.ForeignKey(Proposal, verbose_name=_("proposal"), on_delete=models.CASCADE, related_name="conflicts")
    reviewer = models.ForeignKey(Reviewer, verbose_name=_("reviewer"), on_delete=models.CASCADE, related_name="conflicts")
    source = models.CharField(_("source"), max_length=10, choices=ConflictSource.choices)
    cause = models.CharField(_("cause"), max_length=40)
    detail = models.TextField(_("detail"), blank=True)
    created_at = models.DateTimeField(_("created at"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("recorded by"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ("proposal", "reviewer", "created_at")
        verbose_name = _("conflict of interest")
        verbose_name_plural = _("conflicts of interest")
        constraints = [
            models.UniqueConstraint(fields=["proposal", "reviewer", "source", "cause"], name="conflict_unique_cause")
        ]
        indexes = [models.Index(fields=["reviewer", "proposal"], name="conflict_reviewer_idx")]

    def __str__(self):
        return f"{self.reviewer} × {self.proposal.reference}: {self.cause}"


# Proposals that can be given to reviewers: screened eligible, or already in review.
REVIEWABLE_STATES = [ProposalState.ELIGIBLE, ProposalState.IN_REVIEW]


class AssignmentState(models.TextChoices):
    INVITED = "invited", _("Invited")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")
    WITHDRAWN = "withdrawn", _("Withdrawn (conflict)")
    # The decision was mailed before the review came: the reviewer is no longer asked for it.
    CLOSED = "closed", _("Closed (decision taken)")


class Assignment(models.Model):
    """A reviewer asked to review a proposal, with a due date."""

    panel = models.ForeignKey(Panel, verbose_name=_("panel"), on_delete=models.CASCADE, related_name="assignments")
    proposal = models.ForeignKey(Proposal, verbose_name=_("proposal"), on_delete=models.CASCADE, related_name="assignments")
    reviewer = models.ForeignKey(Reviewer, verbose_name=_("reviewer"), on_delete=models.PROTECT, related_name="assignments")
    state = models.CharField(_("state"), max_length=10, choices=AssignmentState.choices, default=AssignmentState.INVITED)
    due_at = models.DateTimeField(_("due"))
    decline_reason = models.TextField(_("reason for declining"), blank=True)
    created_at = models.DateTimeField(_("created at"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("assigned by"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    responded_at = models.DateTimeField(_("responded at"), null=True, blank=True)
    automatic = models.BooleanField(_("made by automatic assignment"), default=False)
    # Why automatic assignment chose this pair: {"affinity": 0–1000, "terms": [...], "bid": BidValue or "",
    # "load": the reviewer's load before it, "max": their maximum}; worded when shown (``reviews.domain.matching``).
    reasons = models.JSONField(_("why it was chosen"), default=dict, blank=True, editable=False)

    class Meta:
        ordering = ("due_at", "id")
        verbose_name = _("assignment")
        verbose_name_plural = _("assignments")
        constraints = [models.UniqueConstraint(fields=["proposal", "reviewer"], name="assignment_once_per_reviewer")]
        indexes = [
            models.Index(fields=["reviewer", "state"], name="assignment_reviewer_state_idx"),
            # The default order (the admin's list) and the review reminders' "due before now" (docs/benchmarks.md).
            models.Index(fields=["due_at", "id"], name="assignment_due_idx"),
        ]

    def __str__(self):
        return f"{self.reviewer} → {self.proposal.reference}"


class ReviewerSuggestion(models.Model):
    """A colleague a reviewer suggested when declining; the officer may add them to the pool in one click."""

    assignment = models.OneToOneField(Assignment, verbose_name=_("declined assignment"), on_delete=models.CASCADE,
                                      related_name="suggestion")
    panel = models.ForeignKey(Panel, verbose_name=_("panel"), on_delete=models.CASCADE, related_name="suggestions")
    name = models.CharField(_("name"), max_length=200)
    email = models.EmailField(_("e-mail"))
    reason = models.TextField(_("why them"), blank=True)
    created_at = models.DateTimeField(_("suggested at"))
    added_reviewer = models.ForeignKey(Reviewer, verbose_name=_("added as"), null=True, blank=True,
                                       on_delete=models.SET_NULL, related_name="+")
    handled_at = models.DateTimeField(_("handled at"), null=True, blank=True)
    handled_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("handled by"), null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ("panel", "-created_at")
        verbose_name = _("suggested reviewer")
        verbose_name_plural = _("suggested reviewers")

    def __str__(self):
        return f"{self.name} <{self.email}>"


class AssignmentJobState(models.TextChoices):
    QUEUED = "queued", _("Waiting for a worker")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


ACTIVE_JOB_STATES = [AssignmentJobState.QUEUED, AssignmentJobState.RUNNING]
# A job that has not reported for this long stopped (its worker died, or no worker took it): it no longer
# blocks the panel, and the worker that ran it can record nothing any more (``reviews.domain.assignment_job``).
JOB_STALLED_AFTER = dt.timedelta(minutes=10)


class AssignmentJob(models.Model):
    """One automatic assignment of a panel, run in the background by a Celery worker: its state, its
    progress as the worker reports it, and what it did (``result``) or why it failed (``error``, a code
    worded when shown). At most one queued or running per panel (a database constraint)."""

    panel = models.ForeignKey(Panel, verbose_name=_("panel"), on_delete=models.CASCADE, related_name="assignment_jobs")
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("started by"), null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    state = models.CharField(_("state"), max_length=10, choices=AssignmentJobState.choices,
                             default=AssignmentJobState.QUEUED)
    phase = models.CharField(_("phase"), max_length=16, blank=True)
    progress = models.PositiveSmallIntegerField(_("progress (%)"), default=0)
    created_at = models.DateTimeField(_("created at"))
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    heartbeat_at = models.DateTimeField(_("last report at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    # The run that may record the result: a worker taking over a stalled job gets a new one.
    claim = models.CharField(max_length=32, blank=True, editable=False)
    attempts = models.PositiveSmallIntegerField(_("runs started"), default=0)
    celery_task_id = models.CharField(_("Celery task id"), max_length=64, blank=True)
    result = models.JSONField(_("result"), default=dict, blank=True)
    error = models.CharField(_("error"), max_length=16, blank=True)

    class Meta:
        ordering = ("-created_at", "-id")
        verbose_name = _("automatic assignment")
        verbose_name_plural = _("automatic assignments")
        constraints = [
            models.UniqueConstraint(fields=["panel"], condition=Q(state__in=ACTIVE_JOB_STATES),
                                    name="assignment_job_one_active_per_panel"),
            models.CheckConstraint(condition=Q(progress__lte=100), name="assignment_job_progress_in_range"),
        ]

    def __str__(self):
        return f"{self.panel} — {self.get_state_display()}"

    @property
    def active(self) -> bool:
        return self.state in ACTIVE_JOB_STATES

    def stalled(self, now) -> bool:
        """Queued or running, and silent for ``JOB_STALLED_AFTER``."""
        return self.active and (self.heartbeat_at or self.created_at) < now - JOB_STALLED_AFTER


class Recommendation(models.TextChoices):
    FUND = "fund", _("Fund")
    RESERVE = "reserve", _("Reserve list")
    REJECT = "reject", _("Reject")


class ReviewState(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")


class Review(models.Model):
    """One reviewer's evaluation of one proposal: a score and comment per criterion, and the comments."""

    assignment = models.OneToOneField(Assignment, verbose_name=_("assignment"), on_delete=models.PROTECT, related_name="review")
    proposal = models.ForeignKey(Proposal, verbose_name=_("proposal"), on_delete=models.PROTECT, related_name="reviews")
    reviewer = models.ForeignKey(Reviewer, verbose_name=_("reviewer"), on_delete=models.PROTECT, related_name="reviews")
    state = models.CharField(_("state"), max_length=10, choices=ReviewState.choices, default=ReviewState.DRAFT)
    lock_version = models.PositiveIntegerField(default=1, editable=False)
    comment_for_pi = models.TextField(_("comment for the PI"), blank=True)
    confidential_comment = models.TextField(
        _("confidential comment for the panel"), blank=True, help_text=_("Never shown to the PI.")
    )
    recommendation = models.CharField(_("recommendation"), max_length=10, choices=Recommendation.choices, blank=True)
    created_at = models.DateTimeField(_("created at"))
    updated_at = models.DateTimeField(_("last saved at"))
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)

    class Meta:
        ordering = ("proposal", "reviewer")
        verbose_name = _("review")
        verbose_name_plural = _("reviews")
        constraints = [models.UniqueConstraint(fields=["reviewer", "proposal"], name="review_once_per_reviewer")]

    def __str__(self):
        return _("%(reviewer)s on %(reference)s") % {"reviewer": self.reviewer, "reference": self.proposal.reference}


class Score(models.Model):
    """A score for one criterion. ``max_score`` is copied from the criterion so the database itself can
    check the range and the half-point step on every row."""

    review = models.ForeignKey(Review, verbose_name=_("review"), on_delete=models.CASCADE, related_name="scores")
    criterion = models.ForeignKey(Criterion, verbose_name=_("criterion"), on_delete=models.PROTECT, related_name="scores")
    score = models.DecimalField(_("score"), max_digits=4, decimal_places=1, null=True, blank=True)
    max_score = models.DecimalField(max_digits=4, decimal_places=1, editable=False)
    comment = models.TextField(_("comment"), blank=True)

    class Meta:
        ordering = ("criterion__position",)
        verbose_name = _("score")
        verbose_name_plural = _("scores")
        constraints = [
            models.UniqueConstraint(fields=["review", "criterion"], name="score_once_per_criterion"),
            models.CheckConstraint(
                condition=Q(score__isnull=True) | (Q(score__gte=0) & Q(score__lte=F("max_score"))),
                name="score_in_range",
            ),
        ]

    def __str__(self):
        return f"{self.criterion}: {self.score}"


class PanelRecommendation(models.Model):
    """The officer's consensus, rank and recommendation for one proposal. The consensus summary becomes
    the evaluation summary sent to the PI."""

    proposal = models.OneToOneField(Proposal, verbose_name=_("proposal"), on_delete=models.CASCADE, related_name="panel_recommendation")
    panel = models.ForeignKey(Panel, verbose_name=_("panel"), on_delete=models.CASCADE, related_name="recommendations")
    consensus = models.TextField(_("consensus summary (sent to the PI)"), blank=True)
    rank = models.PositiveIntegerField(_("rank"), null=True, blank=True)
    recommendation = models.CharField(_("recommendation"), max_length=10, choices=Recommendation.choices, blank=True)
    proposed_amount = models.DecimalField(
        _("proposed amount (€)"), max_digits=9, decimal_places=2, null=True, blank=True,
        validators=[MinValueValidator(Decimal(0))],
    )
    updated_at = models.DateTimeField(_("updated at"))
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("last updated by"), null=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ("panel", "rank")
        verbose_name = _("panel recommendation")
        verbose_name_plural = _("panel recommendations")
        constraints = [
            models.UniqueConstraint(fields=["panel", "rank"], name="recommendation_rank_unique"),
            models.CheckConstraint(condition=Q(proposed_amount__isnull=True) | Q(proposed_amount__gte=0),
                                   name="recommendation_amount_not_negative"),
        ]

    def __str__(self):
        return f"{self.proposal.reference}: {self.recommendation}"


class PanelFigures(models.Model):
    """What the officer's panel table shows of one proposal's reviews, kept by the database so that the
    table sorts, filters and pages in SQL (``reviews.domain.panel_figures`` writes it, ``panel_table`` reads
    it). Derived data: recomputed for the whole panel on the first read after a review was submitted or
    reopened or a conflict recorded (``Panel.figures_stale``), or after what it was computed from changed
    (the call's criteria, the institute's priorities, the proposal's panel, keywords or partner country).

    Figures are rounded to 9 decimals (the table shows 2) so that equal values compare equal."""

    proposal = models.OneToOneField(Proposal, verbose_name=_("proposal"), on_delete=models.CASCADE, related_name="panel_figures")
    panel = models.ForeignKey(Panel, verbose_name=_("panel"), on_delete=models.CASCADE, related_name="+")
    # The call's criteria and weights and the institute's priorities the figures were computed with.
    inputs_key = models.CharField(max_length=64)
    # The proposal's keywords and partner country the priority match was computed from.
    keywords = models.TextField(blank=True)
    partner_country = models.CharField(max_length=2, blank=True)
    priority = models.BooleanField(default=False)
    reviews_done = models.PositiveIntegerField(default=0)
    # Reviews with a weighted total (a criterion of non-zero weight scored): what median and spread span.
    totals_counted = models.PositiveIntegerField(default=0)
    # "c<criterion id>" → mean of the counted reviews' scores (no key: nobody scored it).
    criterion_means = models.JSONField(default=dict)
    weighted_total = models.DecimalField(max_digits=18, decimal_places=9, null=True)
    median = models.DecimalField(max_digits=18, decimal_places=9, null=True)
    spread = models.DecimalField(max_digits=18, decimal_places=9, null=True)
    calibrated = models.DecimalField(max_digits=18, decimal_places=9, null=True)

    class Meta:
        verbose_name = _("panel table figures")
        verbose_name_plural = _("panel table figures")

    def __str__(self):
        return f"{self.proposal_id}: {self.weighted_total}"


class DecisionOutcome(models.TextChoices):
    SELECTED = "selected", _("Selected")
    RESERVE = "reserve", _("Reserve list")
    REJECTED = "rejected", _("Rejected")


# The state a decision leaves its proposal in, by outcome; a proposal in one of these states is decided.
OUTCOME_STATES = {
    DecisionOutcome.SELECTED: ProposalState.SELECTED,
    DecisionOutcome.RESERVE: ProposalState.RESERVE,
    DecisionOutcome.REJECTED: ProposalState.REJECTED,
}
DECIDED_STATES = list(OUTCOME_STATES.values())


class Decision(models.Model):
    """The directorate's final decision on a proposal, and when its mail went out."""

    proposal = models.OneToOneField(Proposal, verbose_name=_("proposal"), on_delete=models.PROTECT, related_name="decision")
    outcome = models.CharField(_("outcome"), max_length=10, choices=DecisionOutcome.choices)
    amount = models.DecimalField(_("amount (€)"), max_digits=9, decimal_places=2, null=True, blank=True)
    decided_at = models.DateTimeField(_("decided at"))
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("decided by"), on_delete=models.PROTECT, related_name="+")
    notified_at = models.DateTimeField(_("mail sent at"), null=True, blank=True)
    override_reason = models.TextField(
        _("reason for deciding anyway"), blank=True,
        help_text=_("Why staff decided although reviews or the panel's recommendation were missing, or a "
                    "threshold was not met."),
    )

    class Meta:
        ordering = ("-decided_at",)
        verbose_name = _("decision")
        verbose_name_plural = _("decisions")
        constraints = [
            models.CheckConstraint(
                condition=(Q(outcome="selected") & Q(amount__isnull=False) & Q(amount__gt=0)) | ~Q(outcome="selected"),
                name="decision_selected_has_amount",
            ),
        ]

    def __str__(self):
        return f"{self.proposal.reference}: {self.outcome}"
