"""Query counts of the admin lists that grow with the data: the same at two sizes."""

import pytest
from django.utils import timezone

from iea.audit.domain import audit_record
from tests.factories import CallFactory, UnitFactory

pytestmark = pytest.mark.django_db


def test_unit_list(client, staff, queries):
    client.force_login(staff)
    assert queries.at_sizes(UnitFactory.create_batch, lambda: client.get("/admin/calls/unit/"),
                            sizes=(1, 20)) == (8, 8)


def test_audit_list(client, staff, queries):
    client.force_login(staff)

    def record(n):
        for _ in range(n):
            audit_record(actor=staff, target=CallFactory(), action="call.open", now=timezone.now())

    assert queries.at_sizes(record, lambda: client.get("/admin/audit/auditentry/"), sizes=(1, 20)) == (10, 10)


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


def test_audit_list_names_every_kind_of_object_in_as_many_queries_for_three_as_for_one(client, staff, queries):
    client.force_login(staff)
    made = iter(range(1, 10))

    def entries(n):
        for _ in range(n):
            _entries_about_every_kind(staff, next(made))

    assert queries.at_sizes(entries, lambda: client.get("/admin/audit/auditentry/")) == (18, 18)
    body = client.get("/admin/audit/auditentry/").content.decode()
    assert "Reviewer 3 (" in body and ", tranche 1" in body
