import secrets

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# Stored in place of the name of a person whose account was erased (iea.site.privacy); people read "erased person"
# in their language (``User.display_name``).
ERASED_NAME = "Erased user"


def split_full_name(full_name: str) -> tuple[str, str]:
    """First and last name from a name written in one piece: the first word is the first name, the rest
    the last name, so particles stay with the family name ("Jean-Marc de La Fontaine" → "Jean-Marc",
    "de La Fontaine"); a single word is taken as the last name. Joined again they give the same name."""
    words = " ".join((full_name or "").split()).split(" ", 1)
    return (words[0], words[1]) if len(words) == 2 else ("", words[0])


def join_names(first_name: str, last_name: str) -> str:
    """The name as it is shown and searched: "First Last"."""
    return " ".join(part for part in (" ".join((first_name or "").split()), " ".join((last_name or "").split())) if part)


def new_calendar_key() -> str:
    return secrets.token_urlsafe(24)


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email, password, **extra):
        if not email:
            raise ValueError("An e-mail address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra):
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email, password=None, **extra):
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self._create_user(email, password, **extra)

    def get_by_natural_key(self, email):
        return self.get(email__iexact=email)


class User(AbstractBaseUser, PermissionsMixin):
    """A person who signs in. The e-mail address is the login (Janus sends the institutional address).

    Roles are not a field: directorate staff are ``is_staff``; institute officers, reviewers and unit
    managers are what the calls, reviews and funding apps record about them (see ``iea.roles``).
    """

    email = models.EmailField(_("e-mail address"), unique=True)
    # Asked at sign-up, given by Janus, changed by the person on their account page (domain.profile_update).
    first_name = models.CharField(_("first name"), max_length=100, blank=True)
    last_name = models.CharField(_("last name"), max_length=100, blank=True)
    # Derived on every save (``save``): "First Last", the name shown, searched, sorted and matched against team
    # lists (reviews.domain.conflicts). Written directly only by the erasure ("Erased user") and by code that
    # knows a name in one piece (the reviewer pool, benchmarks): then it is split into the two fields.
    full_name = models.CharField(_("full name"), max_length=200, blank=True)
    language = models.CharField(
        _("preferred language"), max_length=8, choices=settings.LANGUAGES, default=settings.LANGUAGE_CODE
    )
    is_staff = models.BooleanField(
        _("directorate staff"), default=False, help_text=_("May sign in to the administration site.")
    )
    is_active = models.BooleanField(_("active"), default=True)
    date_joined = models.DateTimeField(_("date joined"), default=timezone.now)
    calendar_key = models.CharField(
        _("calendar feed key"), max_length=64, unique=True, default=new_calendar_key, editable=False,
        help_text=_("The secret part of the address of the person's calendar feed (.ics)."),
    )
    # Changed only through ``iea.accounts.domain.announcements_set`` (audited): the person's own choice.
    call_announcements = models.BooleanField(
        _("call announcements"), default=False,
        help_text=_("Receives an e-mail when a call is published and when it opens."),
    )

    # Researcher identifiers, given by the person (account page) or, for a reviewer, by the institute's officer:
    # co-author conflicts match on them before names (reviews.domain.coauthors).
    orcid = models.CharField(
        _("ORCID iD"), max_length=19, blank=True, help_text=_("16 digits in four groups, e.g. 0000-0002-1825-0097."),
    )
    hal_id = models.CharField(_("HAL author identifier (idHAL)"), max_length=100, blank=True,
                              help_text=_("e.g. jean-dupont"))

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [models.UniqueConstraint(Lower("email"), name="user_email_ci_unique")]

    def __str__(self):
        return self.get_full_name()

    @classmethod
    def from_db(cls, db, field_names, values):
        instance = super().from_db(db, field_names, values)
        instance._names_as_loaded = tuple(instance.__dict__.get(name) for name in ("first_name", "last_name", "full_name"))
        return instance

    def save(self, *args, **kwargs):
        """Keep the three name fields in step: ``full_name`` is "First Last". A name changed in one piece
        (``full_name`` alone: the reviewer pool, an older caller) is split into first and last name; else
        the first and last name make the full name. Saving any of them saves all three."""
        if self.full_name != ERASED_NAME:
            loaded = getattr(self, "_names_as_loaded", ("", "", ""))
            whole_changed_alone = self.full_name != loaded[2] and (self.first_name, self.last_name) == loaded[:2]
            if (self.first_name.strip() or self.last_name.strip()) and not whole_changed_alone:
                self.first_name, self.last_name = " ".join(self.first_name.split()), " ".join(self.last_name.split())
                self.full_name = join_names(self.first_name, self.last_name)[:200]
            else:
                self.first_name, self.last_name = (part[:100] for part in split_full_name(self.full_name))
                self.full_name = join_names(self.first_name, self.last_name)
        update_fields = kwargs.get("update_fields")
        names = {"first_name", "last_name", "full_name"}
        if update_fields is not None and names & set(update_fields):
            kwargs["update_fields"] = {*update_fields, *names}
        super().save(*args, **kwargs)
        self._names_as_loaded = (self.first_name, self.last_name, self.full_name)

    @property
    def has_name(self) -> bool:
        """Whether the person's name is known (it is asked at sign-up; older accounts may lack it)."""
        return bool(self.full_name) and self.full_name != ERASED_NAME

    @property
    def display_name(self) -> str:
        """The person as every page, mail, PDF, export and admin list shows them: "First Last"; an erased
        account in the reader's language; the e-mail address only when no name is known."""
        if self.full_name == ERASED_NAME:
            return str(_("erased person"))
        return self.full_name or self.email

    def clean(self):
        super().clean()
        self.email = self.__class__.objects.normalize_email(self.email).lower()

    def get_full_name(self):
        """Django's name for ``display_name`` (templates, allauth and the admin call it)."""
        return self.display_name

    def get_short_name(self):
        if self.has_name:
            return self.first_name or self.full_name.split(" ")[0]
        return self.get_full_name()


class ApiTokenScope(models.TextChoices):
    READ = "read", _("Read")
    WRITE = "read write", _("Read and write")


class ApiToken(models.Model):
    """A personal API token. Only its SHA-256 is stored: the token itself is shown once, at creation."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(_("starts with"), max_length=12, editable=False)
    digest = models.CharField(max_length=64, unique=True, editable=False)
    scopes = models.CharField(_("scopes"), max_length=20, choices=ApiTokenScope.choices, default=ApiTokenScope.READ)
    created_at = models.DateTimeField(_("created at"))
    expires_at = models.DateTimeField(_("expires at"))
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        ordering = ("-created_at", "-id")
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

    def can(self, scope: str) -> bool:
        return scope in self.scopes.split()
