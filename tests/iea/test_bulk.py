"""``iea.bulk.insert_all``: what bulk_create stores, faster on PostgreSQL (COPY), the same on every database —
run on SQLite and on PostgreSQL (CI's two legs)."""

import datetime as dt

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, transaction
from django.utils import timezone

from iea.audit.models import AuditEntry
from iea.bulk import insert_all
from iea.notifications.models import Notification
from tests.factories import CallFactory, UserFactory

pytestmark = pytest.mark.django_db

NOW = timezone.now().replace(microsecond=0)



@pytest.fixture(autouse=True)
def copy_even_a_few_rows(monkeypatch):
    """The few rows of these tests go through COPY on PostgreSQL, as thousands would."""
    monkeypatch.setattr("iea.bulk.COPY_FROM", 0)


def entry(user, call, **fields) -> AuditEntry:
    return AuditEntry(created_at=NOW, actor=user, action="call.open", content_type=ContentType.objects.get_for_model(call),
                      object_id=str(call.pk), data={"note": "é «x»", "n": [1, 2]}, **fields)


def test_rows_are_stored_as_given_with_their_ids_set():
    user, call = UserFactory(), CallFactory()
    entries = insert_all([entry(user, call, reason=f"r{n}") for n in range(3)] + [entry(None, call, actor_label="partner")])

    assert all(e.pk and not e._state.adding for e in entries)
    stored = AuditEntry.objects.order_by("pk")
    assert [e.pk for e in entries] == list(stored.values_list("pk", flat=True))
    assert list(stored.values_list("created_at", "actor", "actor_label", "action", "object_id", "reason", "data")) == [
        (NOW, user.pk, "", "call.open", str(call.pk), "r0", {"note": "é «x»", "n": [1, 2]}),
        (NOW, user.pk, "", "call.open", str(call.pk), "r1", {"note": "é «x»", "n": [1, 2]}),
        (NOW, user.pk, "", "call.open", str(call.pk), "r2", {"note": "é «x»", "n": [1, 2]}),
        (NOW, None, "partner", "call.open", str(call.pk), "", {"note": "é «x»", "n": [1, 2]}),
    ]
    # The sequence moved on: the next row saved one at a time gets a fresh id.
    assert entry(user, call).save() is None and AuditEntry.objects.order_by("pk").last().pk > entries[-1].pk
    assert insert_all([]) == []


def notification(user, n) -> Notification:
    return Notification(kind="receipt", content_type=ContentType.objects.get_for_model(user), object_id=n, occurrence="",
                        recipient=user, email=user.email, language="fr",
                        params={}, due_at=NOW, created_at=NOW + dt.timedelta(seconds=n))


def test_a_unique_constraint_raises_djangos_integrity_error_and_nothing_of_the_batch_is_stored():
    user = UserFactory()
    insert_all([notification(user, 1)])
    with pytest.raises(IntegrityError), transaction.atomic():
        insert_all([notification(user, 2), notification(user, 1)])
    assert list(Notification.objects.values_list("object_id", flat=True)) == [1]


def test_ignore_conflicts_skips_the_rows_already_held():
    user = UserFactory()
    insert_all([notification(user, 1)])
    insert_all([notification(user, 2), notification(user, 1), notification(user, 3)], ignore_conflicts=True)
    assert sorted(Notification.objects.values_list("object_id", flat=True)) == [1, 2, 3]
    assert Notification.objects.get(object_id=1).created_at == NOW + dt.timedelta(seconds=1)  # the first one stays
