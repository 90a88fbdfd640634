from collections.abc import Iterable
from datetime import datetime
from typing import Any, NotRequired, TypedDict, Unpack

from django.contrib.contenttypes.models import ContentType
from django.db import models

from ..bulk import insert_all
from .models import AuditEntry


class AuditFields(TypedDict):
    """What an audit entry says: who (``actor``, or ``actor_label`` for someone without an account) did
    ``action`` to ``target`` at ``now``; the state it moved from and to, the reason given, any other data."""

    actor: Any
    target: models.Model
    action: str
    now: datetime
    from_state: NotRequired[str]
    to_state: NotRequired[str]
    reason: NotRequired[str]
    actor_label: NotRequired[str]
    data: NotRequired[dict[str, Any] | None]


def audit_entry(**fields: Unpack[AuditFields]) -> AuditEntry:
    """One audit entry, not saved yet: ``audit_record`` saves one, ``audit_record_all`` many at once."""
    actor, target = fields["actor"], fields["target"]
    return AuditEntry(  # ids rather than objects: cheaper by half, for the thousands audit_record_all writes
        created_at=fields["now"],
        actor_id=actor.pk if actor is not None and actor.is_authenticated else None,
        actor_label=fields.get("actor_label", ""),
        action=fields["action"],
        content_type_id=ContentType.objects.get_for_model(target).pk,
        object_id=str(target.pk),
        from_state=fields.get("from_state", ""),
        to_state=fields.get("to_state", ""),
        reason=fields.get("reason", ""),
        data=fields.get("data") or {},
    )


def audit_record(**fields: Unpack[AuditFields]) -> AuditEntry:
    """Write one audit entry. Called inside the transaction of the change it records, so both land or neither."""
    entry = audit_entry(**fields)
    entry.save(force_insert=True)
    return entry


def audit_record_all(entries: Iterable[AuditEntry]) -> None:
    """Write many entries at once (``iea.bulk.insert_all``), for a change that touches thousands of objects
    (the automatic assignment of a panel); same transaction rule as ``audit_record``."""
    insert_all(list(entries))


def audit_trail(target: models.Model):
    """The entries about one object, newest first."""
    return AuditEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(target), object_id=str(target.pk)
    ).select_related("actor", "content_type")
