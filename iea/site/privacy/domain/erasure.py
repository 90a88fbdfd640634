"""The right to erasure (GDPR art. 17): a person asks, directorate staff process the request.

Processing anonymises the account — unless retention forbids it (``retention``): the person is the PI of
a proposal whose retention period has not passed, or of an award still running. Then the request is
refused with those reasons, and the person is told by e-mail. Proposals of theirs already past retention
are anonymised on the way (``anonymise``).
"""

import datetime as dt

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.socialaccount.models import SocialAccount
from django.apps import apps
from django.contrib.admin.models import LogEntry
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from calls.models import Institute, Unit
from iea.accounts.models import ERASED_NAME, ApiToken, new_calendar_key
from iea.audit.domain import audit_record
from iea.audit.models import AuditEntry
from iea.notifications.models import Notification
from proposals.models import CoApplicant, Proposal
from reviews.models import Affinity, Panel, Publication, Reviewer, Unavailability

from ..models import AnonymisationVia, ErasureRequest, ErasureState
from .anonymise import PrivacyError, _require_staff, proposal_anonymise
from .mail import notify_erasure_refused
from .retention import Blocker, retention_blocker, with_retention_data
from .scrub import (
    audit_about,
    audit_mentioning,
    audit_redact,
    erased_address,
    erased_address_of_each_row,
    notifications_forget,
)


def erasure_request(*, user, reason: str = "", now: dt.datetime) -> ErasureRequest:
    """The person asks for their account to be erased. One request waits at a time: the account row is
    locked while checking, and a unique constraint on (person, pending) backs it up."""
    try:
        with transaction.atomic():
            get_user_model().objects.select_for_update().get(pk=user.pk)
            if ErasureRequest.objects.filter(user=user, state=ErasureState.PENDING).exists():
                raise PrivacyError(_("You already asked for the erasure of your account; the directorate will "
                                     "process that request."), code="pending")
            request = ErasureRequest.objects.create(user=user, reason=(reason or "").strip()[:4000], requested_at=now)
            audit_record(actor=user, target=request, action="privacy.erasure_request", now=now,
                         to_state=request.state)
    except IntegrityError:
        raise PrivacyError(_("You already asked for the erasure of your account; the directorate will process "
                             "that request."), code="pending") from None
    return request


def erasure_blockers(person, *, now: dt.datetime) -> list[Blocker]:
    """What retention forbids erasing now: one ``Blocker`` per proposal of the person's (as PI) still kept.
    Proposals already anonymised keep nothing of theirs."""
    proposals = with_retention_data(Proposal.objects.filter(pi=person, anonymisation__isnull=True)).order_by("pk")
    return [blocker for proposal in proposals if (blocker := retention_blocker(proposal, now=now)) is not None]


def _lock_request(request_id: int) -> ErasureRequest:
    request = ErasureRequest.objects.select_for_update().get(pk=request_id)
    get_user_model().objects.select_for_update().get(pk=request.user_id)
    return ErasureRequest.objects.select_related("user").get(pk=request_id)


def erasure_process(*, request_id: int, user, now: dt.datetime) -> ErasureRequest:
    """Staff process a pending request: erase the account, or refuse it for retention (the reasons are
    kept on the request and mailed to the person). A request already processed is returned unchanged, so
    a double click, or two staff at once, process it once (the request row is locked)."""
    _require_staff(user)
    with transaction.atomic():
        request = _lock_request(request_id)
        if request.state != ErasureState.PENDING:
            return request
        person = request.user
        if person.pk == getattr(user, "pk", None):
            raise PrivacyError(_("Another member of staff must process your own request."), code="own_request")
        blockers = erasure_blockers(person, now=now)
        if blockers:
            known = [b.until for b in blockers if b.until is not None]
            request.retained_until = max(known) if len(known) == len(blockers) else None
            request.blockers = [b.as_data() for b in blockers]
            _refuse(request, user=user, now=now, action="privacy.erasure_refuse_retention")
            return request
        for proposal_id in Proposal.objects.filter(pi=person, anonymisation__isnull=True).values_list("pk", flat=True):
            proposal_anonymise(proposal_id=proposal_id, user=user, now=now, via=AnonymisationVia.ERASURE)
        erased = account_anonymise(person, now=now)
        before = request.state
        request.state, request.processed_at, request.processed_by = ErasureState.DONE, now, user
        request.reason = ""
        request.save(update_fields=["state", "processed_at", "processed_by", "reason"])
        audit_record(actor=user, target=request, action="privacy.erasure_done", now=now, from_state=before,
                     to_state=request.state, data=erased)
    return request


def erasure_refuse(*, request_id: int, user, reason: str, now: dt.datetime) -> ErasureRequest:
    """Staff refuse a pending request for another reason than retention (e.g. a legal hold), which they
    give; the person is told."""
    _require_staff(user)
    reason = (reason or "").strip()
    if not reason:
        raise PrivacyError(_("Give the reason; the person will read it."), code="reason")
    with transaction.atomic():
        request = _lock_request(request_id)
        if request.state != ErasureState.PENDING:
            return request
        request.refusal_reason = reason
        _refuse(request, user=user, now=now, action="privacy.erasure_refuse")
    return request


def _refuse(request: ErasureRequest, *, user, now: dt.datetime, action: str) -> None:
    before = request.state
    request.state, request.processed_at, request.processed_by = ErasureState.REFUSED, now, user
    request.save(update_fields=["state", "processed_at", "processed_by", "blockers", "refusal_reason",
                                "retained_until"])
    audit_record(actor=user, target=request, action=action, now=now, from_state=before, to_state=request.state,
                 reason=request.refusal_reason, data={"blockers": request.blockers})
    notify_erasure_refused(request=request, now=now)


def account_anonymise(person, *, now: dt.datetime) -> dict:
    """Anonymise the account itself: ``erased-<id>@invalid``, "Erased user", no password, inactive, no
    role, tokens revoked, two-factor and e-mail addresses and linked sign-in accounts removed; the ORCID iD
    and idHAL blanked, the publications, dates away and the affinities computed from them deleted; the
    co-applications revoked and their address replaced; the messages sent to the person and the audit trail
    lose the address and the name. Called under the request's lock by ``erasure_process``. Returns counts
    for the audit entry."""
    old_email, old_name = person.email, person.full_name
    person.email = erased_address("", person.pk)
    person.full_name = ERASED_NAME
    person.first_name = person.last_name = ""
    person.set_unusable_password()
    person.is_active = person.is_staff = person.is_superuser = False
    person.call_announcements = False
    person.calendar_key = new_calendar_key()
    person.orcid = person.hal_id = ""
    person.save(update_fields=["email", "full_name", "first_name", "last_name", "password", "is_active", "is_staff", "is_superuser",
                               "call_announcements", "calendar_key", "orcid", "hal_id"])
    person.groups.clear()
    person.user_permissions.clear()
    counts = {
        "api_tokens_revoked": ApiToken.objects.filter(user=person, revoked_at__isnull=True).update(revoked_at=now),
        "authenticators": Authenticator.objects.filter(user=person).delete()[0],
        "email_addresses": EmailAddress.objects.filter(user=person).delete()[0],
        "social_accounts": _social_accounts_delete(person),
    }
    Institute.officers.through.objects.filter(user_id=person.pk).delete()
    Panel.officers.through.objects.filter(user_id=person.pk).delete()
    Unit.managers.through.objects.filter(user_id=person.pk).delete()
    Reviewer.objects.filter(user=person).update(active=False, institution="", keywords="")
    counts["publications"] = Publication.objects.filter(user=person).delete()[0]
    counts["unavailabilities"] = Unavailability.objects.filter(user=person).delete()[0]
    Affinity.objects.filter(reviewer__user=person).delete()
    coapplications = CoApplicant.objects.filter(Q(user=person) | Q(email__iexact=old_email))
    coapplications.filter(revoked_at__isnull=True).update(revoked_at=now)
    counts["coapplications"] = coapplications.update(email=erased_address_of_each_row(f"{person.pk}-c"))

    messages = Notification.objects.filter(Q(recipient=person) | Q(email__iexact=old_email))
    counts["messages"] = notifications_forget(messages, reason="the recipient's account was erased")
    # The account's messages keep one address each (the outbox's uniqueness is per address).
    messages.filter(recipient=person).update(email=erased_address_of_each_row(f"{person.pk}-n"))
    personal = [old_email, old_name]
    entries = AuditEntry.objects.filter(pk__in=audit_mentioning([old_email]).values("pk")) | AuditEntry.objects.filter(
        audit_about([person]))
    counts["audit_entries"] = audit_redact(entries, personal)
    LogEntry.objects.filter(content_type=ContentType.objects.get_for_model(person), object_id=str(person.pk)).update(
        object_repr=person.email)
    return counts


def _social_accounts_delete(person) -> int:
    if not apps.is_installed("allauth.socialaccount"):
        return 0
    return SocialAccount.objects.filter(user=person).delete()[0]
