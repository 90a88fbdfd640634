import secrets

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# Stored in place of the name of a person whose account was erased (iea.privacy); people read "erased person"
# in their language (``User.display_name``).
ERASED_NAME = "Erased user"


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

    @property
    def display_name(self) -> str:
        """The name as people read it: an erased account's stored marker in their language."""
        return str(_("erased person")) if self.full_name == ERASED_NAME else self.full_name

    def clean(self):
        super().clean()
        self.email = self.__class__.objects.normalize_email(self.email).lower()

    def get_full_name(self):
        return self.display_name or self.email

    def get_short_name(self):
        if self.full_name and self.full_name != ERASED_NAME:
            return self.full_name.split(" ")[0]
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
