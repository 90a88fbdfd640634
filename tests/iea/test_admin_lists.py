"""Query counts of the admin lists that grow with the data: the same at two sizes."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from iea.audit.domain import audit_record
from tests.factories import CallFactory, UnitFactory

pytestmark = pytest.mark.django_db


def _count(client, url):
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
