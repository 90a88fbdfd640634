import secrets
import uuid
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Exists, F, OuterRef, Q
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField

from calls.models import Call, Institute, Unit


class ProposalState(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")
    ELIGIBLE = "eligible", _("Eligible")
    INELIGIBLE = "ineligible", _("Ineligible")
    IN_REVIEW = "in_review", _("In review")
    RANKED = "ranked", _("Ranked")
    SELECTED = "selected", _("Selected")
    RESERVE = "reserve", _("Reserve list")
    REJECTED = "rejected", _("Rejected")
    FUNDED = "funded", _("Funded")
    WITHDRAWN = "withdrawn", _("Withdrawn")


# A proposal in these states counts against the PI's limit of active proposals in a call.
ACTIVE_STATES = [s for s in ProposalState.values if s not in (ProposalState.WITHDRAWN,)]
# The PI may still change and (re-)submit while the call accepts submissions.
EDITABLE_STATES = [ProposalState.DRAFT, ProposalState.SUBMITTED]
# What the panel and the directorate do with a proposal stays inside until the decision mail goes out
# (domain.md): before it, its applicants see these states as "in review".
UNANNOUNCED_STATES = [ProposalState.RANKED, ProposalState.SELECTED, ProposalState.RESERVE, ProposalState.REJECTED]


class BudgetCategory(models.TextChoices):
    MOBILITY = "mobility", _("Mobility")
    MEETINGS = "meetings", _("Working meetings")
    FIELD = "field", _("Field missions")
    OTHER = "other", _("Other")


class Proposal(models.Model):
    """A PI's application to a call. ``lock_version`` makes concurrent edits from two tabs detectable."""

    call = models.ForeignKey(Call, verbose_name=_("call"), on_delete=models.PROTECT, related_name="proposals")
    pi = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("principal investigator"), on_delete=models.PROTECT,
        related_name="proposals",
    )
    reference = models.CharField(_("reference"), max_length=20, unique=True, editable=False)
    state = models.CharField(_("state"), max_length=16, choices=ProposalState.choices, default=ProposalState.DRAFT)
    lock_version = models.PositiveIntegerField(default=1, editable=False)

    title = models.CharField(_("title"), max_length=250, blank=True)
    acronym = models.CharField(_("acronym"), max_length=30, blank=True)
    abstract = models.TextField(_("abstract"), blank=True)
    keywords = models.CharField(_("keywords"), max_length=300, blank=True, help_text=_("Separated by commas."))
    unit = models.ForeignKey(
        Unit, verbose_name=_("PI's unit"), null=True, blank=True, on_delete=models.PROTECT, related_name="proposals"
    )
    evaluating_institute = models.ForeignKey(
        Institute, verbose_name=_("evaluating institute"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
        help_text=_("By default the unit's main institute; you may choose one of its secondary institutes."),
    )
    partner_name = models.CharField(_("partner's name"), max_length=200, blank=True)
    partner_email = models.EmailField(_("partner's e-mail"), blank=True)
    partner_institution = models.CharField(_("partner's institution"), max_length=250, blank=True)
    partner_country = CountryField(_("partner's country"), blank=True)
    activities = models.TextField(_("planned missions and meetings"), blank=True)
    ethics_statement = models.TextField(_("ethics statement"), blank=True)

    created_at = models.DateTimeField(_("created at"))
    updated_at = models.DateTimeField(_("last saved at"))
    # Who saved the main form last (the PI or a co-applicant, #21): the other's conflict banner names them.
    last_saved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("last saved by"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+", editable=False,
    )
    submitted_at = models.DateTimeField(_("last submitted at"), null=True, blank=True)
    has_unsubmitted_changes = models.BooleanField(_("changed since the last submission"), default=False, editable=False)
    # The PI's unfunded proposal of an earlier call this draft was started from (#21, "restart from last year",
    # ``proposals.domain.proposal_restart``): the editor shows that proposal's evaluation beside the form.
    restarted_from = models.ForeignKey(
        "self", verbose_name=_("started from"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="restarts", editable=False,
    )

    class Meta:
        ordering = ("-updated_at",)
        verbose_name = _("proposal")
        verbose_name_plural = _("proposals")
        indexes = [
            models.Index(fields=["call", "state"], name="proposal_call_state_idx"),
            models.Index(fields=["pi", "call"], name="proposal_pi_call_idx"),
        ]

    def __str__(self):
        return f"{self.reference} {self.acronym or self.title or _('(untitled)')}"

    @property
    def institute(self):
        """The institute that evaluates the proposal: the chosen one, else the unit's main institute."""
        if self.evaluating_institute_id:
            return self.evaluating_institute
        return self.unit.main_institute if self.unit_id else None

    @property
    def applicant_state(self) -> str:
        """The state its PI and partner see: a ranking or decision only once the decision mail went out.
        Reads the decision through its reverse relation (reviews.Decision): select_related("decision")."""
        if self.state not in UNANNOUNCED_STATES:
            return self.state
        try:
            announced = self.decision.notified_at is not None
        except ObjectDoesNotExist:
            announced = False
        return self.state if announced else ProposalState.IN_REVIEW

    def get_applicant_state_display(self) -> str:
        return ProposalState(self.applicant_state).label


def announced_state_is(state: str, prefix: str = "") -> Q:
    """The queryset form of ``Proposal.applicant_state == state``."""
    announced = Q(**{f"{prefix}decision__notified_at__isnull": False})
    if state in UNANNOUNCED_STATES:
        return Q(**{f"{prefix}state": state}) & announced
    if state == ProposalState.IN_REVIEW:
        return Q(**{f"{prefix}state": state}) | (Q(**{f"{prefix}state__in": UNANNOUNCED_STATES}) & ~announced)
    return Q(**{f"{prefix}state": state})


def evaluated_by(institute_id, prefix: str = "") -> Q:
    """The queryset form of ``Proposal.institute``: the chosen institute, else the unit's main one.
    ``prefix`` reaches the proposal through a relation, e.g. ``"proposal__"``."""
    return Q(**{f"{prefix}evaluating_institute_id": institute_id}) | Q(
        **{f"{prefix}evaluating_institute__isnull": True, f"{prefix}unit__main_institute_id": institute_id}
    )


def evaluating_institute(field: str = "id", prefix: str = ""):
    """``Proposal.institute`` as a query expression, to annotate or group by: the chosen institute's ``field``,
    else the unit's main institute's (``"id"``, ``"code"``…). ``prefix`` as for ``evaluated_by``."""
    if field == "id":
        return Coalesce(F(f"{prefix}evaluating_institute_id"), F(f"{prefix}unit__main_institute_id"))
    return Coalesce(F(f"{prefix}evaluating_institute__{field}"), F(f"{prefix}unit__main_institute__{field}"))


def is_resubmission():
    """Whether the proposal's PI submitted a proposal to an earlier call that was not selected: the one definition
    of a resubmission (there is no "resubmission of" field). The exports ask it per proposal; the statistics
    count it for thousands at once by joining each PI's first such year (``iea.site.backoffice.statistics.
    resubmissions``), and a test checks the two agree. Reads reviews' decision through its reverse relation, by
    name (proposals sits below reviews)."""
    earlier = Proposal.objects.filter(
        pi=OuterRef("pi"), call__year__lt=OuterRef("call__year"), submitted_at__isnull=False,
    ).exclude(decision__outcome="selected")
    return Exists(earlier)


class TeamSide(models.TextChoices):
    CNRS = "cnrs", _("CNRS side")
    PARTNER = "partner", _("Partner side")


class TeamMember(models.Model):
    proposal = models.ForeignKey(Proposal, verbose_name=_("proposal"), on_delete=models.CASCADE, related_name="team")
    side = models.CharField(_("side"), max_length=8, choices=TeamSide.choices)
    name = models.CharField(_("name"), max_length=200)
    email = models.EmailField(_("e-mail"), blank=True)
    position = models.CharField(_("position"), max_length=120, blank=True, help_text=_("e.g. PhD student, professor"))
    institution = models.CharField(_("unit or institution"), max_length=250, blank=True)
    orcid = models.CharField(_("ORCID iD"), max_length=19, blank=True)
    early_career = models.BooleanField(
        _("early-career researcher"), default=False,
        help_text=_("PhD student, post-doc, or researcher within a few years of the PhD."),
    )

    class Meta:
        ordering = ("side", "id")
        verbose_name = _("team member")
        verbose_name_plural = _("team members")

    def __str__(self):
        return self.name


class BudgetLine(models.Model):
    """The amount requested for one year of the project and one spending category."""

    proposal = models.ForeignKey(Proposal, verbose_name=_("proposal"), on_delete=models.CASCADE, related_name="budget_lines")
    year = models.PositiveSmallIntegerField(_("year"), validators=[MinValueValidator(1)])
    category = models.CharField(_("category"), max_length=16, choices=BudgetCategory.choices)
    amount = models.DecimalField(
        _("amount (€)"), max_digits=9, decimal_places=2, default=Decimal(0), validators=[MinValueValidator(0)]
    )

    class Meta:
        ordering = ("year", "category")
        verbose_name = _("budget line")
        verbose_name_plural = _("budget lines")
        constraints = [
            models.UniqueConstraint(fields=["proposal", "year", "category"], name="budget_line_unique"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="budget_amount_not_negative"),
        ]

    def __str__(self):
        return f"{self.year} {self.category} {self.amount}"


def letter_folder(proposal_id: int) -> str:
    """The storage folder of a proposal's support letters (the retention purge empties it)."""
    return f"letters/{proposal_id}"


def letter_path(instance, filename):
    # The stored name is chosen by the server; what the uploader called the file is kept only as text.
    return f"{letter_folder(instance.proposal_id)}/{uuid.uuid4().hex}.pdf"


class SupportLetter(models.Model):
    """One uploaded support letter. Replacing the letter adds a row; the replaced one is deleted, row and file,
    unless a submitted version points to it (``domain.letter_attach``), so a frozen version keeps its file."""

    proposal = models.ForeignKey(Proposal, verbose_name=_("proposal"), on_delete=models.CASCADE, related_name="letters")
    file = models.FileField(upload_to=letter_path, max_length=200)
    original_name = models.CharField(_("file name"), max_length=255)
    size = models.PositiveIntegerField(_("size (bytes)"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    pages = models.PositiveIntegerField(_("pages"))
    cofunding = models.BooleanField(_("the partner co-funds the project"), default=False)
    cofunding_amount = models.DecimalField(
        _("co-funding amount"), max_digits=12, decimal_places=2, null=True, blank=True,
        validators=[MinValueValidator(0)],
    )
    cofunding_currency = models.CharField(_("currency"), max_length=3, blank=True)
    uploaded_at = models.DateTimeField(_("uploaded at"))
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("uploaded by"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    uploaded_by_partner = models.BooleanField(_("uploaded by the partner"), default=False)
    # Which partner link brought it: the PI's page names that partner, who may since have been replaced.
    uploaded_via = models.ForeignKey(
        "PartnerInvitation", verbose_name=_("uploaded through the invitation"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="letters",
    )

    class Meta:
        ordering = ("-uploaded_at", "-id")
        get_latest_by = ("uploaded_at", "id")
        verbose_name = _("support letter")
        verbose_name_plural = _("support letters")

    def __str__(self):
        return self.original_name


class ProposalVersion(models.Model):
    """What was submitted, frozen: the content as JSON, the letter, and the SHA-256 of each.

    Each (re-)submission adds one; the one with the highest number counts.
    """

    proposal = models.ForeignKey(Proposal, verbose_name=_("proposal"), on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField(_("version"))
    submitted_at = models.DateTimeField(_("submitted at"))
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("submitted by"), on_delete=models.PROTECT, related_name="+")
    content = models.JSONField()
    content_sha256 = models.CharField(_("content SHA-256"), max_length=64)
    letter = models.ForeignKey(SupportLetter, verbose_name=_("support letter"), on_delete=models.PROTECT, related_name="versions")

    class Meta:
        ordering = ("proposal", "-number")
        verbose_name = _("submitted version")
        verbose_name_plural = _("submitted versions")
        constraints = [models.UniqueConstraint(fields=["proposal", "number"], name="version_number_unique")]

    def __str__(self):
        return f"{self.proposal.reference} v{self.number}"


def new_invitation_nonce() -> str:
    return secrets.token_urlsafe(24)


class InvitationRevoked(models.TextChoices):
    """Why a partner's link stopped working before it expired (its page says so)."""

    REPLACED = "replaced", _("A newer invitation was sent")
    PARTNER_CHANGED = "partner_changed", _("The partner's e-mail changed")


class PartnerInvitation(models.Model):
    """A signed, expiring link through which the foreign partner, who has no account, reads the
    proposal and uploads the support letter. A new invitation revokes the earlier ones, and so does a
    change of the partner's e-mail: the link follows the partner, not the proposal."""

    proposal = models.ForeignKey(Proposal, verbose_name=_("proposal"), on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField(_("sent to"))
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES, default="en")
    nonce = models.CharField(max_length=64, unique=True, default=new_invitation_nonce, editable=False)
    created_at = models.DateTimeField(_("sent at"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("sent by"), on_delete=models.PROTECT, related_name="+")
    expires_at = models.DateTimeField(_("expires at"))
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    revoked_reason = models.CharField(_("revoked because"), max_length=16, choices=InvitationRevoked.choices, blank=True)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)

    class Meta:
        ordering = ("-created_at",)
        verbose_name = _("partner invitation")
        verbose_name_plural = _("partner invitations")

    def __str__(self):
        return f"{self.proposal.reference} → {self.email}"


class CoApplicantRole(models.TextChoices):
    EDITOR = "editor", _("Co-applicant: reads and edits the draft")
    READER = "reader", _("Reader: reads the draft")


class CoApplicant(models.Model):
    """Someone the PI invited to prepare the proposal with them (#21): a CNRS colleague who edits the draft,
    or (read only) the foreign partner. The invitation goes by e-mail with a link; whoever opens it signed in
    with the invited address's account becomes ``user``. Only the PI submits and withdraws. Revoking keeps the
    row (the audit trail names it), and the person loses access on their next request."""

    proposal = models.ForeignKey(Proposal, verbose_name=_("proposal"), on_delete=models.CASCADE, related_name="coapplicants")
    email = models.EmailField(_("e-mail"))
    role = models.CharField(_("role"), max_length=8, choices=CoApplicantRole.choices, default=CoApplicantRole.EDITOR)
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES, default="fr")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("account"), null=True, blank=True, on_delete=models.CASCADE,
        related_name="coapplications",
    )
    nonce = models.CharField(max_length=64, unique=True, default=new_invitation_nonce, editable=False)
    invited_at = models.DateTimeField(_("invited at"))
    invited_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("invited by"), on_delete=models.PROTECT, related_name="+")
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        ordering = ("proposal", "invited_at", "id")
        verbose_name = _("co-applicant")
        verbose_name_plural = _("co-applicants")
        constraints = [
            # One live invitation per address and per account on a proposal; revoked ones stay as history.
            models.UniqueConstraint(fields=["proposal", "email"], condition=Q(revoked_at__isnull=True),
                                    name="coapplicant_live_email_unique"),
            models.UniqueConstraint(fields=["proposal", "user"], condition=Q(revoked_at__isnull=True, user__isnull=False),
                                    name="coapplicant_live_user_unique"),
        ]

    def __str__(self):
        return f"{self.proposal.reference} ← {self.email}"

    @property
    def active(self) -> bool:
        """Accepted and not revoked: the person reaches the proposal."""
        return self.user_id is not None and self.accepted_at is not None and self.revoked_at is None


class InformationRequestState(models.TextChoices):
    OPEN = "open", _("Open")
    ANSWERED = "answered", _("Answered")
    EXPIRED = "expired", _("Expired")
    CANCELLED = "cancelled", _("Cancelled")


# What a request for information may let the PI change (#21): the letter, the team, the budget, and each field
# of the editor's main form (``domain.drafts.DRAFT_FIELDS``, named by their verbose names).
RFI_LETTER, RFI_TEAM, RFI_BUDGET = "letter", "team", "budget"


class InformationRequest(models.Model):
    """Staff ask the PI, at screening, to fix a precise point of a submitted proposal by a deadline
    (domain.md, "Request for information"). While it is open and its deadline has not passed, the PI may
    change the ``items`` named, and only those, although the call is closed; sending the answer freezes a new
    version. Past the deadline it is expired, decided at request time (``state_at``): the stored state says
    ``open`` until a staff action records the expiry."""

    proposal = models.ForeignKey(
        Proposal, verbose_name=_("proposal"), on_delete=models.CASCADE, related_name="information_requests",
    )
    items = models.JSONField(_("what may change"), default=list)
    message = models.TextField(_("message to the PI"))
    language = models.CharField(_("written in"), max_length=8, choices=settings.LANGUAGES, blank=True,
                                help_text=_("The language of the page the message was written in; marks it for "
                                            "screen readers and translation tools."))
    deadline = models.DateTimeField(_("deadline"))
    state = models.CharField(
        _("state"), max_length=10, choices=InformationRequestState.choices, default=InformationRequestState.OPEN,
    )
    asked_at = models.DateTimeField(_("asked at"))
    asked_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("asked by"), on_delete=models.PROTECT, related_name="+")
    closed_at = models.DateTimeField(_("answered, cancelled or expired at"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("answered or cancelled by"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="+",
    )
    version = models.ForeignKey(
        ProposalVersion, verbose_name=_("version of the answer"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="information_requests",
    )

    class Meta:
        ordering = ("proposal", "-asked_at", "-id")
        verbose_name = _("request for information")
        verbose_name_plural = _("requests for information")
        constraints = [
            # Two staff members asking at once: one open request per proposal (the proposal's row lock first).
            models.UniqueConstraint(fields=["proposal"], condition=Q(state="open"), name="information_request_one_open"),
        ]

    def __str__(self):
        return f"{self.proposal.reference} — {self.asked_at:%Y-%m-%d}"

    def state_at(self, now) -> str:
        """The state at ``now``: an open request whose deadline passed is expired, whether recorded or not."""
        if self.state == InformationRequestState.OPEN and now >= self.deadline:
            return InformationRequestState.EXPIRED
        return self.state

    def is_open_at(self, now) -> bool:
        return self.state_at(now) == InformationRequestState.OPEN
class ThreadTopic(models.TextChoices):
    """What a conversation is about (#21): the proposal, or its award (the award is 1:1 with the proposal)."""

    PROPOSAL = "proposal", _("Proposal")
    AWARD = "award", _("Award")


class MessageSide(models.TextChoices):
    """Who wrote a message: the applicants (the PI and co-applicants) or the directorate's side (staff, or
    the officer of the proposal's panel)."""

    APPLICANTS = "applicants", _("Applicants")
    DIRECTORATE = "directorate", _("Directorate or institute")


class MessageThread(models.Model):
    """The conversation between a proposal's applicants and the directorate or the institute's officer (#21),
    one per proposal and topic. Written by ``reviews.domain.messages`` only (who may take part is a rule of
    the review: the officer of the panel)."""

    proposal = models.ForeignKey(Proposal, verbose_name=_("proposal"), on_delete=models.CASCADE, related_name="threads")
    topic = models.CharField(_("topic"), max_length=8, choices=ThreadTopic.choices, default=ThreadTopic.PROPOSAL)
    created_at = models.DateTimeField(_("started at"))
    last_message_at = models.DateTimeField(_("last message at"), null=True, blank=True)
    last_side = models.CharField(_("last message from"), max_length=12, choices=MessageSide.choices, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("closed by"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ("-last_message_at", "-id")
        verbose_name = _("conversation")
        verbose_name_plural = _("conversations")
        constraints = [models.UniqueConstraint(fields=["proposal", "topic"], name="thread_proposal_topic_unique")]
        indexes = [models.Index(fields=["closed_at", "last_side"], name="thread_open_side_idx")]

    def __str__(self):
        return f"{self.proposal.reference} · {self.get_topic_display()}"

    @property
    def is_open(self) -> bool:
        return self.closed_at is None


def message_folder(proposal_id: int) -> str:
    """The storage folder of a proposal's message attachments (private, like the letters)."""
    return f"messages/{proposal_id}"


def message_attachment_path(instance, filename):
    # The stored name is chosen by the server; what the uploader called the file is kept only as text.
    return f"{message_folder(instance.thread.proposal_id)}/{uuid.uuid4().hex}.pdf"


class Message(models.Model):
    """One message of a conversation, with an optional PDF checked as support letters are
    (``proposals.letters.check_pdf``: content, size, pages, SHA-256)."""

    thread = models.ForeignKey(MessageThread, verbose_name=_("conversation"), on_delete=models.CASCADE,
                               related_name="messages")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("author"), on_delete=models.PROTECT,
                               related_name="+")
    side = models.CharField(_("side"), max_length=12, choices=MessageSide.choices)
    text = models.TextField(_("message"))
    language = models.CharField(_("written in"), max_length=8, choices=settings.LANGUAGES, blank=True,
                                help_text=_("The language of the page the message was written in; marks it for "
                                            "screen readers and translation tools."))
    created_at = models.DateTimeField(_("sent at"))
    attachment = models.FileField(_("attachment"), upload_to=message_attachment_path, max_length=200, blank=True)
    attachment_name = models.CharField(_("file name"), max_length=255, blank=True)
    attachment_size = models.PositiveIntegerField(_("size (bytes)"), null=True, blank=True)
    attachment_sha256 = models.CharField(_("SHA-256"), max_length=64, blank=True)
    attachment_pages = models.PositiveIntegerField(_("pages"), null=True, blank=True)

    class Meta:
        ordering = ("thread", "created_at", "id")
        verbose_name = _("message")
        verbose_name_plural = _("messages")

    def __str__(self):
        return f"{self.thread} #{self.pk}"


class ThreadRead(models.Model):
    """How far one person read a conversation: the last message they saw (unread = later messages by others)."""

    thread = models.ForeignKey(MessageThread, verbose_name=_("conversation"), on_delete=models.CASCADE,
                               related_name="reads")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("reader"), on_delete=models.CASCADE,
                             related_name="+")
    last_read_message_id = models.PositiveBigIntegerField(_("last message read"), default=0)
    read_at = models.DateTimeField(_("read at"))

    class Meta:
        verbose_name = _("read marker")
        verbose_name_plural = _("read markers")
        constraints = [models.UniqueConstraint(fields=["thread", "user"], name="thread_read_unique")]

    def __str__(self):
        return f"{self.thread} ← {self.user_id}"
