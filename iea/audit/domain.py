from datetime import datetime
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models

from .models import AuditEntry


def audit_record(
    *,
    actor,
    target: models.Model,
    action: str,
    now: datetime,
    from_state: str = "",
    to_state: str = "",
    reason: str = "",
    actor_label: str = "",
    data: dict[str, Any] | None = None,
) -> AuditEntry:
    """Write one audit entry. Called inside the transaction of the change it records, so both land or neither."""
    return AuditEntry.objects.create(
        created_at=now,
        actor=actor if actor is not None and actor.is_authenticated else None,
        actor_label=actor_label,
        action=action,
        content_type=ContentType.objects.get_for_model(target),
        object_id=str(target.pk),
        from_state=from_state,
        to_state=to_state,
        reason=reason,
        data=data or {},
    )


def audit_trail(target: models.Model):
    """The entries about one object, newest first."""
    return AuditEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(target), object_id=str(target.pk)
    ).select_related("actor", "content_type")
