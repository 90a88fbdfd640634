import datetime as dt
import hashlib
import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from iea.audit.domain import audit_record
from iea.errors import DomainError
from iea.identifiers import hal_id_normalise, orcid_normalise

from .models import ApiToken, ApiTokenScope, new_calendar_key

# The one-click unsubscribe link of call announcements carries the user's id, signed with this salt: a
# signature made for anything else (a session, another link) is not accepted here.
ANNOUNCEMENTS_SALT = "iea.accounts.announcements.unsubscribe"


PROFILE_FIELDS = ("first_name", "last_name", "language")


def profile_update(*, user, actor, first_name: str, last_name: str, language: str, now: dt.datetime,
                   orcid: str | None = None, hal_id: str | None = None) -> list[str]:
    """The person changes their own first name, last name and language (their account page). Returns the
    fields that changed; nothing changed writes nothing.

    Only the person themselves: staff change someone else's name in the admin. Both names are required (they
    are how pages, mails and PDFs show the person); the language is one the platform speaks, the language of
    the mail it sends them. ``orcid`` and ``hal_id`` (None: left as they are) are the researcher identifiers
    co-author detection matches on: an ORCID iD with a wrong check digit is refused (``iea.identifiers``). The
    row is locked, so two tabs saving at once leave one consistent name and one audit entry each. The trail says which fields changed, not the names themselves: an erasure
    (iea.site.privacy) then has no past name to look for.
    """
    if actor is None or actor.pk != user.pk:
        raise DomainError(_("You may only change your own account."), code="not_yours")
    first_name, last_name = " ".join((first_name or "").split()), " ".join((last_name or "").split())
    if not first_name or not last_name:
        raise DomainError(_("Enter your first name and your last name."), code="name")
    if language not in dict(settings.LANGUAGES):
        raise DomainError(_("Choose one of the languages offered."), code="language")
    wanted = {"first_name": first_name[:100], "last_name": last_name[:100], "language": language}
    try:
        if orcid is not None:
            wanted["orcid"] = orcid_normalise(orcid)
        if hal_id is not None:
            wanted["hal_id"] = hal_id_normalise(hal_id)
    except ValidationError as error:
        raise DomainError(error.messages[0], code=error.code) from None
    with transaction.atomic():
        person = get_user_model().objects.select_for_update().get(pk=user.pk)
        changed = [field for field in wanted if getattr(person, field) != wanted[field]]
        if not changed:
            return []
        for field in changed:
            setattr(person, field, wanted[field])
        person.save(update_fields=changed)
        data = {"changed": changed}
        if "language" in changed:
            data["language"] = language
        audit_record(actor=actor, target=person, action="account.profile_update", now=now, data=data)
    for field in (*PROFILE_FIELDS, "orcid", "hal_id", "full_name"):
        setattr(user, field, getattr(person, field))
    return changed


def calendar_key_reset(*, user, now: dt.datetime) -> str:
    """Give the person's calendar feed a new secret address; the old one stops working at once."""
    user.calendar_key = new_calendar_key()
    user.save(update_fields=["calendar_key"])
    audit_record(actor=user, target=user, action="account.calendar_reset", now=now)
    return user.calendar_key


def announcements_set(*, user, subscribed: bool, now: dt.datetime, via: str) -> bool:
    """Subscribe the person to call announcements, or unsubscribe them (domain.md, notifications: "call
    published / opens → subscribed users"). Returns whether anything changed.

    ``via`` says how: ``"page"`` (their Notifications page, signed in: they are the actor), ``"link"`` (the
    one-click link of an announcement, nobody signed in) or ``"demo"``. A compare-and-set update: two
    clicks at once change the flag once and write one audit entry; asking for the current state writes
    nothing. Messages already recorded are checked again when sent (``calls.notifications``).
    """
    with transaction.atomic():
        changed = (get_user_model().objects.filter(pk=user.pk).exclude(call_announcements=subscribed)
                   .update(call_announcements=subscribed))
        user.call_announcements = subscribed
        if changed:
            audit_record(
                actor=user if via == "page" else None,
                actor_label="" if via == "page" else f"<{user.email}> via {via}",
                target=user,
                action="account.announcements_subscribe" if subscribed else "account.announcements_unsubscribe",
                now=now, from_state="unsubscribed" if subscribed else "subscribed",
                to_state="subscribed" if subscribed else "unsubscribed", data={"via": via},
            )
    return bool(changed)


def announcements_token(user) -> str:
    """The secret part of the person's unsubscribe link. It does not expire: a mail read months later
    must still unsubscribe."""
    return signing.dumps(user.pk, salt=ANNOUNCEMENTS_SALT)


def announcements_user(token: str):
    """The person an unsubscribe link was made for, or None for a link that is tampered with, made for
    something else, or whose account no longer exists."""
    try:
        user_id = signing.loads(token, salt=ANNOUNCEMENTS_SALT)
    except signing.BadSignature:
        return None
    if not isinstance(user_id, int):
        return None
    return get_user_model().objects.filter(pk=user_id).first()


# --- personal API tokens ------------------------------------------------------------------------------

TOKEN_LIFETIMES = (30, 90, 365)  # days a user may choose


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def api_token_create(*, user, name: str, scopes: str, days: int, now: dt.datetime) -> tuple[ApiToken, str]:
    """A new token for the user; returns it with its secret, which is not stored (only its SHA-256)."""
    name = (name or "").strip()
    if not name:
        raise DomainError(_("Give the token a name, e.g. the script that will use it."), code="name")
    if scopes not in ApiTokenScope.values:
        raise DomainError(_("Choose what the token may do."), code="scopes")
    if days not in TOKEN_LIFETIMES:
        raise DomainError(_("Choose how long the token lasts."), code="days")
    secret = f"iea_{secrets.token_urlsafe(32)}"
    with transaction.atomic():
        token = ApiToken.objects.create(user=user, name=name[:100], prefix=secret[:12], digest=_digest(secret),
                                        scopes=scopes, created_at=now, expires_at=now + dt.timedelta(days=days))
        audit_record(actor=user, target=user, action="account.api_token_create", now=now,
                     data={"token": token.pk, "name": token.name, "scopes": scopes, "days": days})
    return token, secret


def api_token_revoke(*, user, token_id: int, now: dt.datetime) -> ApiToken:
    with transaction.atomic():
        token = ApiToken.objects.select_for_update().filter(user=user, pk=token_id).first()
        if token is None:
            raise DomainError(_("This token does not exist or is not yours."), code="not_found")
        if token.revoked_at is None:
            token.revoked_at = now
            token.save(update_fields=["revoked_at"])
            audit_record(actor=user, target=user, action="account.api_token_revoke", now=now,
                         data={"token": token.pk, "name": token.name})
    return token


def api_token_user(secret: str, *, now: dt.datetime) -> ApiToken | None:
    """The live token with this secret, or None (unknown, revoked, expired, or its user deactivated)."""
    token = ApiToken.objects.select_related("user").filter(digest=_digest(secret)).first()
    if token is None or token.revoked_at is not None or now >= token.expires_at or not token.user.is_active:
        return None
    if token.last_used_at is None or now - token.last_used_at > dt.timedelta(minutes=1):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token

