"""Query counts of the admin lists that grow with the data: the same at two sizes."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from iea.audit.domain import audit_record
from tests.factories import CallFactory, UnitFactory

pytestmark = pytest.mark.django_db


def _count(client, url):
    client.get(url)  # the process's caches (content types, the session) warm, as they are on a running site
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_unit_list(client, staff):
    client.force_login(staff)
    UnitFactory()
    one = _count(client, "/admin/calls/unit/")
    for _ in range(19):
        UnitFactory()
    assert _count(client, "/admin/calls/unit/") == one


def test_audit_list(client, staff):
    client.force_login(staff)
    call = CallFactory()
    audit_record(actor=staff, target=call, action="call.open", now=timezone.now())
    one = _count(client, "/admin/audit/auditentry/")
    for i in range(19):
        audit_record(actor=staff, target=CallFactory(), action=f"call.test{i}", now=timezone.now())
    assert _count(client, "/admin/audit/auditentry/") == one


@pytest.mark.parametrize("url", ["/admin/calls/unit/", "/admin/audit/auditentry/", "/admin/accounts/user/",
                                 "/admin/reviews/reviewer/", "/admin/proposals/partnerinvitation/"])
def test_admin_lists_refuse_non_staff(client, pi, url):
    assert client.get(url).status_code == 302
    client.force_login(pi)
    response = client.get(url)
    assert response.status_code in (302, 403)
    assert "/admin/login/" in response.get("Location", "/admin/login/")


def _entries_about_every_kind(staff, n: int) -> None:
    """Entries about each kind of object whose name reads linked records (a tranche: its award's proposal; a
    review: its reviewer and proposal), as the platform records them."""
    from iea.site.privacy.domain import erasure_request
    from tests.factories import UserFactory
    from tests.funding.admin_factories import make_award, report, tranche
    from tests.reviews.staff_factories import make_review, make_reviewer

    now = timezone.now()
    award = make_award(user=staff)  # records the award's creation
    reviewer = make_reviewer(award.proposal.institute, name=f"Reviewer {n}", email=f"reviewer{n}@example.org")
    review = make_review(award.proposal, reviewer, scores=[])
    for target in (tranche(award, 1), report(award), review, review.assignment, reviewer, review.assignment.panel,
                   award.proposal):
        audit_record(actor=staff, target=target, action="call.open", now=now)
    erasure_request(user=UserFactory(), now=now)


def test_audit_list_names_every_kind_of_object_in_as_many_queries_for_three_as_for_one(client, staff):
    client.force_login(staff)
    _entries_about_every_kind(staff, 1)
    one = _count(client, "/admin/audit/auditentry/")
    _entries_about_every_kind(staff, 2)
    _entries_about_every_kind(staff, 3)
    body = client.get("/admin/audit/auditentry/").content.decode()
    assert "Reviewer 3 (" in body and ", tranche 1" in body
    assert _count(client, "/admin/audit/auditentry/") == one
