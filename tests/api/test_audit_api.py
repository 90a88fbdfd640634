"""The audit trail through the API: directorate staff only (with two-factor authentication), one object's
entries newest first as the domain wrote them, a malformed target a 400 that says how to write it, an
unknown object a 404, and a query count that does not grow with the trail."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from funding.domain.reports import report_cosign, report_save, report_submit
from funding.models import CosignInvitation
from iea.audit.domain import audit_record
from tests.factories import StaffFactory
from tests.funding.factories import award_factory, cast

pytestmark = pytest.mark.django_db

AUDIT = "/api/v1/audit/"


@pytest.fixture
def award(pi, staff):
    return award_factory(pi=pi, staff=staff)


@pytest.fixture
def report(award):
    """The year-1 report saved, submitted by the PI and co-signed by the partner, a minute apart."""
    start = timezone.now() - dt.timedelta(hours=1)
    pi = award.proposal.pi
    report = award.reports.get(period="year1")
    report_save(report_id=report.pk, user=pi, scientific_review="Two missions.", spending={"mobility": Decimal(900)},
                cofunding_received=None, cofunding_currency="", now=start)
    report_submit(report_id=report.pk, user=pi, now=start + dt.timedelta(minutes=1))
    invitation = CosignInvitation.objects.get(report=report)
    return report_cosign(invitation=invitation, signer_name="Ana Souza", now=start + dt.timedelta(minutes=2))


def error_of(response) -> dict:
    return response.json()["error"]


def test_staff_read_the_trail_of_a_report_newest_first(api_client, staff, report):
    response = api_client(staff).get(AUDIT, {"target": f"funding.report:{report.pk}"})

    assert response.status_code == 200, response.json()
    rows = response.json()["results"]
    assert [(r["action"], r["actor"], r["actor_label"], r["from_state"], r["to_state"]) for r in rows] == [
        ("report.cosign", None, f"partner <ana@usp.example.br> via link #{report.cosign_invitations.get().pk}",
         "submitted", "cosigned"),
        ("report.submit", "pi@cnrs.example.fr", "", "draft", "submitted"),
        ("report.save", "pi@cnrs.example.fr", "", "", ""),
    ]
    assert [dt.datetime.fromisoformat(r["created_at"]) for r in rows] == sorted(
        (dt.datetime.fromisoformat(r["created_at"]) for r in rows), reverse=True)
    assert set(rows[0]) == {"id", "created_at", "actor", "actor_label", "action", "from_state", "to_state", "reason",
                            "data"}


def test_the_trail_gives_the_reason_and_the_details(api_client, staff, award):
    proposal = award.proposal
    response = api_client(staff).get(AUDIT, {"target": f"funding.award:{award.pk}"})
    assert [(r["action"], r["actor"], r["to_state"], r["data"]) for r in response.json()["results"]] == [
        ("award.accept", proposal.pi.email, "active", {}),
        ("award.create", staff.email, "awaiting", {"amount": "12000", "proposal": proposal.reference}),
    ]
    audit_record(actor=staff, target=proposal, action="proposal.extend", reason="Strike on the trains.",
                 now=timezone.now() + dt.timedelta(minutes=1))
    rows = api_client(staff).get(AUDIT, {"target": f"proposals.proposal:{proposal.pk}"}).json()["results"]
    assert [(r["action"], r["reason"]) for r in rows] == [("proposal.extend", "Strike on the trains."),
                                                         ("proposal.funded", "")]


def test_the_trail_is_only_that_objects_and_filters_by_action(api_client, staff, report):
    other = award_factory(staff=staff).reports.get(period="year1")
    audit_record(actor=staff, target=other, action="report.save", now=timezone.now())
    client = api_client(staff)
    saves = client.get(AUDIT, {"target": f"funding.report:{report.pk}", "action": "report.save"}).json()
    assert [(r["action"], r["actor"]) for r in saves["results"]] == [("report.save", "pi@cnrs.example.fr")]
    none = client.get(AUDIT, {"target": f"funding.report:{report.pk}", "action": "report.approve"}).json()
    assert (none["count"], none["results"]) == (0, [])


def test_the_trail_is_paginated(api_client, staff, report):
    body = api_client(staff).get(AUDIT, {"target": f"funding.report:{report.pk}", "page_size": 2}).json()
    assert (body["count"], len(body["results"]), body["previous"]) == (3, 2, None)
    assert "page=2" in body["next"]


@pytest.mark.parametrize("target, message", [
    ("", "Name the object as <app>.<model>:<id>, e.g. \"proposals.proposal:12\"."),
    ("proposal:12", "Name the object as <app>.<model>:<id>, e.g. \"proposals.proposal:12\"."),
    ("proposals.proposal", "Name the object as <app>.<model>:<id>, e.g. \"proposals.proposal:12\"."),
    ("proposals.proposal:1 2", "Name the object as <app>.<model>:<id>, e.g. \"proposals.proposal:12\"."),
    ("proposals.nothing:12", "\"proposals.nothing\" is not a kind of object the platform audits."),
    ("sessions.session:abc", "\"sessions.session\" is not a kind of object the platform audits."),
    ("auth.permission:1", "\"auth.permission\" is not a kind of object the platform audits."),
    ("proposals.proposal:twelve", "\"twelve\" is not a valid id for a proposal."),
])
def test_a_malformed_target_is_a_400_that_says_how_to_write_it(api_client, staff, target, message):
    response = api_client(staff).get(AUDIT, {"target": target} if target else {})
    assert response.status_code == 400
    assert error_of(response)["fields"] == {"target": [message]}


def test_a_malformed_action_is_a_400(api_client, staff, award):
    response = api_client(staff).get(AUDIT, {"target": f"funding.award:{award.pk}", "action": "a b"})
    assert response.status_code == 400
    assert list(error_of(response)["fields"]) == ["action"]


def test_any_object_of_the_platform_has_a_trail(api_client, staff, award):
    tranche = award.tranches.first()
    for target in (f"funding.tranche:{tranche.pk}", f"accounts.user:{staff.pk}", f"calls.call:{award.proposal.call_id}",
                   f"calls.unit:{award.unit_id}"):
        response = api_client(staff).get(AUDIT, {"target": target})
        assert response.status_code == 200, (target, response.json())


def test_an_object_that_does_not_exist_is_a_404(api_client, staff):
    response = api_client(staff).get(AUDIT, {"target": "proposals.proposal:999999"})
    assert response.status_code == 404
    assert error_of(response) == {"status": 404, "code": "not_found",
                                  "message": "There is no proposal with the id 999999."}
    assert api_client(staff).get(AUDIT, {"target": "funding.award:99999999999999999999999"}).status_code == 404


def test_anonymous_gets_401(api_client, award):
    response = api_client().get(AUDIT, {"target": f"funding.award:{award.pk}"})
    assert response.status_code == 401


@pytest.mark.parametrize("who", ["pi", "other_pi", "reviewer", "unit_manager", "officer", "other_officer"])
def test_everyone_but_staff_gets_403(api_client, award, staff, who):
    user = cast(award, staff=staff)[who]
    response = api_client(user).get(AUDIT, {"target": f"funding.award:{award.pk}"})
    assert response.status_code == 403
    assert error_of(response)["message"] == "Only directorate staff read the audit trail."


def test_staff_without_two_factor_authentication_get_403(api_client, award):
    response = api_client(StaffFactory(mfa=False)).get(AUDIT, {"target": f"funding.award:{award.pk}"})
    assert response.status_code == 403
    assert "two-factor" in error_of(response)["message"]


def test_a_read_token_reads_the_trail_but_nothing_writes_it(api_client, staff, award):
    client = api_client(staff, scopes="read")
    assert client.get(AUDIT, {"target": f"funding.award:{award.pk}"}).status_code == 200
    assert api_client(staff).post(AUDIT, {"target": f"funding.award:{award.pk}"}, format="json").status_code == 405


def test_the_query_count_does_not_grow_with_the_trail(api_client, staff, award, queries):
    client = api_client(staff)
    query = {"target": f"funding.award:{award.pk}"}

    def note(n):
        for _ in range(n):
            audit_record(actor=StaffFactory(), target=award, action="award.note", now=timezone.now())

    assert queries.at_sizes(note, lambda: client.get(AUDIT, query), sizes=(1, 7)) == (5, 5)
    assert client.get(AUDIT, query).json()["count"] == 9  # created, accepted by the PI, then the notes
