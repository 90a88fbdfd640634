"""Many simultaneous requests on one proposal give one submission (one version, one audit entry, one
receipt), and many simultaneous "new proposal" clicks give one proposal.

The PostgreSQL tests need ``DATABASE_URL=postgres://...``; CI sets ``REQUIRE_POSTGRES=1`` so that running
them on another database fails instead of silently skipping.
"""

import contextlib
import sqlite3
import threading
from dataclasses import dataclass, field

import pytest
from django.db import close_old_connections, connection, connections
from django.utils import timezone

from iea.audit.models import AuditEntry
from iea.notifications import domain as notifications_domain
from iea.notifications.models import Notification
from proposals.domain import ProposalError, letter_attach, proposal_create, proposal_submit
from proposals.letters import check_pdf
from proposals.models import Proposal, ProposalVersion
from tests.pdfs import pdf_upload


@dataclass
class ReceiptRecorder:
    """Stands in for the outbox's queue: records which receipts were queued once their transaction committed."""

    sent: list = field(default_factory=list)

    def __call__(self, ids):
        self.sent.extend(Notification.objects.filter(pk__in=ids, kind="receipt").values_list("object_id", flat=True))


@pytest.fixture
def receipts(monkeypatch):
    recorder = ReceiptRecorder()
    monkeypatch.setattr(notifications_domain, "enqueue", recorder)
    return recorder


@contextlib.contextmanager
def _using(wrapper):
    """Make ``wrapper`` this thread's default connection for the duration of the block."""
    original = connections["default"]
    connections["default"] = wrapper
    try:
        yield
    finally:
        wrapper.close()
        connections["default"] = original


def _file_connection(path):
    settings_dict = {**connections.settings["default"], "NAME": str(path)}
    return type(connections["default"])(settings_dict, "default")


@pytest.fixture
def sqlite_file_copy(require_sqlite, tmp_path):
    """The test database copied to a file, with the project's SQLite options (WAL, IMMEDIATE, timeout).

    pytest-django's SQLite test database lives in memory with a shared cache, where a writer waiting
    for another gets "database table is locked" at once instead of waiting out the busy timeout; the
    project never runs that way, so the threads work on a file copy, as the app does.
    Gives the copy's path and the function that makes the copy (call it once the data is ready).
    """
    path = tmp_path / "concurrency.sqlite3"

    def copy():
        connection.ensure_connection()
        target = sqlite3.connect(path)
        connection.connection.backup(target)
        target.close()

    return path, copy


def run_together(count: int, work, *, database=None):
    """Run ``work()`` in ``count`` threads released at the same instant; return (results, errors).

    With ``database`` (a SQLite file path), each thread connects to that file instead of the default."""
    barrier = threading.Barrier(count)
    results, errors = [], []
    lock = threading.Lock()

    def target():
        close_old_connections()
        scope = _using(_file_connection(database)) if database else contextlib.nullcontext()
        with scope:
            work_in_thread()

    def work_in_thread():
        try:
            barrier.wait(timeout=30)
            outcome = work()
            with lock:
                results.append(outcome)
        except BaseException as exc:  # noqa: BLE001 - every failure must reach the assertions
            with lock:
                errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=target) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert [thread.is_alive() for thread in threads] == [False] * count, "a thread is still running"
    return results, errors


def ready(draft, pi):
    letter_attach(proposal_id=draft.pk, pdf=check_pdf(pdf_upload()), now=timezone.now(), user=pi)


def assert_one_submission(draft, pi, receipts, threads, database=None):
    now = timezone.now()

    def submit():
        result = proposal_submit(proposal_id=draft.pk, user=pi, now=now)
        return result.version.pk, result.created

    results, errors = run_together(threads, submit, database=database)

    assert errors == []
    with _using(_file_connection(database)) if database else contextlib.nullcontext():
        _assert_one_version(draft, results, receipts, threads)


def _assert_one_version(draft, results, receipts, threads):
    versions = list(ProposalVersion.objects.filter(proposal=draft).values_list("pk", "number"))
    assert len(versions) == 1
    version_id, number = versions[0]
    assert number == 1
    assert sorted(results) == sorted([(version_id, True)] + [(version_id, False)] * (threads - 1))
    assert AuditEntry.objects.filter(action="proposal.submit", object_id=str(draft.pk)).count() == 1
    assert AuditEntry.objects.filter(action="proposal.resubmit").count() == 0
    assert receipts.sent == [version_id]
    assert Proposal.objects.get(pk=draft.pk).state == "submitted"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_twenty_simultaneous_submits_freeze_one_version_on_postgresql(require_postgres, draft, pi, receipts):
    # Regression: ``_lock`` once ran ``select_for_update()`` over the outer join to the nullable unit,
    # which PostgreSQL refuses ("FOR UPDATE cannot be applied to the nullable side of an outer join").
    ready(draft, pi)
    assert_one_submission(draft, pi, receipts, threads=20)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_twenty_simultaneous_creates_give_one_proposal_on_postgresql(require_postgres, call, pi):
    now = timezone.now()

    def create():
        try:
            return proposal_create(call_id=call.pk, pi=pi, now=now).pk
        except ProposalError as exc:
            return exc.code

    results, errors = run_together(20, create)

    assert errors == []
    created = list(Proposal.objects.filter(call=call, pi=pi).values_list("pk", flat=True))
    assert len(created) == 1
    assert sorted(results, key=str) == sorted([created[0]] + ["limit"] * 19, key=str)
    assert AuditEntry.objects.filter(action="proposal.create").count() == 1


@pytest.mark.sqlite
@pytest.mark.django_db(transaction=True)
def test_five_simultaneous_submits_freeze_one_version_on_sqlite(sqlite_file_copy, draft, pi, receipts):
    ready(draft, pi)
    path, copy = sqlite_file_copy
    copy()
    assert_one_submission(draft, pi, receipts, threads=5, database=path)
