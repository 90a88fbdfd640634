"""Erasing personal values from the records that mention them in passing: the outbox and the audit trail.

Both keep what happened (which message, which act, when, from which state to which); the personal values
in them — an address, a name, a file name — are replaced by ``ERASED``. This is the one exception to the
audit trail being append-only, and it is itself audited by the caller.
"""

import re
from collections.abc import Iterable

from django.contrib.contenttypes.models import ContentType
from django.db.models import CharField, Q, TextField, Value
from django.db.models.functions import Cast, Concat

from iea.audit.models import AuditEntry
from iea.notifications.models import Notification, NotificationState

ERASED = "erased"


def erased_address(prefix: str, pk) -> str:
    return f"erased-{prefix}{pk}@invalid"


def erased_address_of_each_row(prefix: str) -> Concat:
    """``erased_address`` as an update expression: one placeholder per row (``erased-<prefix><row pk>@invalid``),
    so that rows unique by address stay unique."""
    return Concat(Value(f"erased-{prefix}"), Cast("pk", CharField()), Value("@invalid"), output_field=CharField())


def redactor(values: Iterable[str]):
    """A function replacing every occurrence of ``values`` (case-insensitive, longest first) in a string,
    a list or a dict, recursively; None when there is nothing to look for."""
    words = sorted({v.strip() for v in values if v and len(v.strip()) >= 3}, key=len, reverse=True)
    if not words:
        return None
    pattern = re.compile("|".join(re.escape(w) for w in words), re.IGNORECASE)

    def redact(value):
        if isinstance(value, str):
            return pattern.sub(ERASED, value)
        if isinstance(value, list):
            return [redact(v) for v in value]
        if isinstance(value, dict):
            return {k: redact(v) for k, v in value.items()}
        return value

    return redact


def audit_redact(entries, values: Iterable[str]) -> int:
    """Replace ``values`` in the label and details of the given audit entries; returns how many changed."""
    redact = redactor(values)
    if redact is None:
        return 0
    changed = []
    for entry in entries.only("pk", "actor_label", "data"):
        label, data = redact(entry.actor_label), redact(entry.data)
        if label != entry.actor_label or data != entry.data:
            entry.actor_label, entry.data = label, data
            changed.append(entry)
    AuditEntry.objects.bulk_update(changed, ["actor_label", "data"], batch_size=500)
    return len(changed)


def audit_mentioning(values: Iterable[str]):
    """The audit entries whose label or details contain one of ``values`` (a scan: for one erasure)."""
    condition = Q(pk__in=[])
    for value in {v for v in values if v}:
        condition |= Q(actor_label__icontains=value) | Q(data_text__icontains=value)
    return AuditEntry.objects.annotate(data_text=Cast("data", TextField())).filter(condition)


def audit_about(objects) -> Q:
    """The condition "the entry is about one of ``objects``" (model instances, any mix of models)."""
    by_type: dict = {}
    for obj in objects:
        by_type.setdefault(ContentType.objects.get_for_model(obj).pk, []).append(str(obj.pk))
    condition = Q(pk__in=[])
    for content_type_id, ids in by_type.items():
        condition |= Q(content_type_id=content_type_id, object_id__in=ids)
    return condition


def notifications_forget(rows, *, reason: str) -> int:
    """The messages keep their kind, subject, state and dates; the address (when it is not an account's:
    an account erases its own), the text as sent and the parameters go. Messages not sent yet never will."""
    rows.filter(state=NotificationState.PENDING).update(state=NotificationState.SKIPPED, last_error=reason)
    rows.filter(recipient__isnull=True).exclude(email__startswith="erased-").update(
        email=erased_address_of_each_row("n"))
    return rows.update(body="", params={})


def notifications_about(objects):
    by_type: dict = {}
    for obj in objects:
        by_type.setdefault(ContentType.objects.get_for_model(obj).pk, []).append(obj.pk)
    condition = Q(pk__in=[])
    for content_type_id, ids in by_type.items():
        condition |= Q(content_type_id=content_type_id, object_id__in=ids)
    return Notification.objects.filter(condition)
