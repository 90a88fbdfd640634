"""The PI's proposals through the API: the same rules as the web editor, as a script meets them."""

import datetime as dt

import pytest
from django.utils import timezone

from iea.audit.models import AuditEntry
from iea.notifications.models import Notification
from proposals.models import Proposal, ProposalState, ProposalVersion
from tests.factories import (
    CallFactory,
    InstituteFactory,
    ProposalFactory,
    StaffFactory,
    UnitFactory,
    UserFactory,
)
from tests.pdfs import pdf_bytes, pdf_upload

pytestmark = pytest.mark.django_db


def _url(proposal, suffix=""):
    return f"/api/v1/proposals/{proposal.reference}/{suffix}"


def _letter(client, proposal, **extra):
    return client.post(_url(proposal, "letter/"), {"file": pdf_upload(), **extra}, format="multipart")


def test_a_pi_creates_fills_and_submits_a_proposal(api_client, pi, call):
    InstituteFactory(code="INSHS")
    unit = UnitFactory(unit_type="UMR", number="5558")
    client = api_client(pi)

    created = client.post("/api/v1/proposals/", {"call": call.year}, format="json")
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["state"] == "draft" and body["call"] == call.year and not body["eligible"]
    reference = body["reference"]
    proposal = Proposal.objects.get(reference=reference)

    saved = client.patch(_url(proposal), {
        "lock_version": body["lock_version"], "title": "Coastal memories", "acronym": "COAST",
        "abstract": "An abstract.", "keywords": "coast, memory", "unit": "umr5558",
        "partner_name": "Ana Souza", "partner_email": "ana@usp.example.br", "partner_institution": "USP",
        "partner_country": "BR", "activities": "Two missions.", "ethics_statement": "None needed.",
        "budget": [{"year": 1, "category": "mobility", "amount": "6000"},
                   {"year": 2, "category": "mobility", "amount": "6000"}],
    }, format="json")
    assert saved.status_code == 200, saved.json()
    body = saved.json()
    assert body["unit"] == unit.code and body["budget_total"] == "12000.00"
    assert body["lock_version"] == 2
    failing = {check["code"] for check in body["checklist"] if not check["ok"]}
    assert failing == {"team", "letter"}

    for side, name in (("cnrs", "Paula"), ("partner", "Ana")):
        added = client.post(_url(proposal, "team/"), {"side": side, "name": name}, format="json")
        assert added.status_code == 201, added.json()
    assert _letter(client, proposal).status_code == 201

    refused_before = client.get(_url(proposal)).json()
    assert refused_before["eligible"] is True

    submitted = client.post(_url(proposal, "submit/"))
    assert submitted.status_code == 201, submitted.json()
    receipt = submitted.json()
    assert receipt["version"] == 1 and receipt["created"] is True and len(receipt["content_sha256"]) == 64
    assert Proposal.objects.get(pk=proposal.pk).state == ProposalState.SUBMITTED
    assert Notification.objects.filter(kind="receipt", email=pi.email).count() == 1

    again = client.post(_url(proposal, "submit/"))
    assert again.status_code == 200 and again.json()["created"] is False
    assert ProposalVersion.objects.filter(proposal=proposal).count() == 1
    assert AuditEntry.objects.filter(object_id=str(proposal.pk), action="proposal.submit").count() == 1


def test_submitting_an_incomplete_proposal_lists_every_failing_rule(api_client, pi, call):
    proposal = ProposalFactory(call=call, pi=pi)
    response = api_client(pi).post(_url(proposal, "submit/"))
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "ineligible"
    assert "support letter" in error["message"] and "Required fields" in error["message"]
    assert Proposal.objects.get(pk=proposal.pk).state == ProposalState.DRAFT


def test_after_the_deadline_changes_and_submission_are_refused_with_the_deadline(api_client, pi):
    call = CallFactory(opens_at=timezone.now() - dt.timedelta(days=60), closes_at=timezone.now() - dt.timedelta(days=1))
    proposal = ProposalFactory(call=call, pi=pi, complete=True)
    client = api_client(pi)
    for response in (
        client.post(_url(proposal, "submit/")),
        client.patch(_url(proposal), {"lock_version": proposal.lock_version, "title": "Late"}, format="json"),
        _letter(client, proposal),
        client.post("/api/v1/proposals/", {"call": call.year}, format="json"),
    ):
        assert response.status_code == 400, response.content
        assert response.json()["error"]["code"] == "closed"
    assert Proposal.objects.get(pk=proposal.pk).title != "Late"


def test_a_stale_lock_version_is_a_409_and_writes_nothing(api_client, pi, draft):
    client = api_client(pi)
    version = client.get(_url(draft)).json()["lock_version"]
    assert client.patch(_url(draft), {"lock_version": version, "title": "First"}, format="json").status_code == 200
    response = client.patch(_url(draft), {"lock_version": version, "title": "Second"}, format="json")
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "conflict" and error["fields"] == {"title": ["Changed since you read it."]}
    assert Proposal.objects.get(pk=draft.pk).title == "First"


def test_field_errors_name_the_field_in_the_requests_language(api_client, pi, draft):
    response = api_client(pi, language="fr").patch(_url(draft), {
        "lock_version": draft.lock_version, "unit": "XYZ", "partner_email": "not-an-address",
        "budget": [{"year": 1, "category": "mobility", "amount": "-5"}],
    }, format="json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert set(error["fields"]) == {"budget"}  # the serializer refuses the negative amount first
    response = api_client(pi, language="fr").patch(_url(draft), {
        "lock_version": draft.lock_version, "unit": "XYZ", "partner_email": "not-an-address"}, format="json")
    fields = response.json()["error"]["fields"]
    assert set(fields) == {"unit", "partner_email"}
    assert "code d’unité" in fields["unit"][0] or "unité" in fields["unit"][0]


def test_a_budget_year_the_call_does_not_have_is_refused(api_client, pi, draft):
    response = api_client(pi).patch(_url(draft), {
        "lock_version": draft.lock_version, "budget": [{"year": 9, "category": "mobility", "amount": "5"}]},
        format="json")
    assert response.status_code == 400
    assert "year 9 does not exist" in response.json()["error"]["fields"]["budget"][0]


def test_a_file_that_is_not_a_pdf_is_refused_and_the_letter_kept(api_client, pi, draft):
    client = api_client(pi)
    assert _letter(client, draft).status_code == 201
    fake = pdf_upload(name="letter.pdf", content=b"MZ\x90\x00 a program")
    response = client.post(_url(draft, "letter/"), {"file": fake}, format="multipart")
    assert response.status_code == 400
    assert "program" in response.json()["error"]["fields"]["file"][0]
    locked = pdf_upload(content=pdf_bytes(password="secret"))
    assert client.post(_url(draft, "letter/"), {"file": locked}, format="multipart").status_code == 400
    assert client.get(_url(draft)).json()["letter"]["original_name"] == "letter.pdf"
    missing = client.post(_url(draft, "letter/"), {"cofunding": "false"}, format="multipart")
    assert missing.status_code == 400 and "file" in missing.json()["error"]["fields"]


def test_cofunding_needs_an_amount_and_a_currency(api_client, pi, draft):
    response = _letter(api_client(pi), draft, cofunding="true", cofunding_currency="euro")
    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == {"cofunding_amount", "cofunding_currency"}


def test_the_team_is_added_to_and_removed_from(api_client, pi, draft, other_pi):
    client = api_client(pi)
    member = client.post(_url(draft, "team/"), {"side": "partner", "name": "Ana", "early_career": True},
                         format="json").json()
    assert client.post(_url(draft, "team/"), {"side": "moon", "name": ""}, format="json").json()["error"][
        "fields"].keys() == {"side", "name"}
    assert api_client(other_pi).delete(_url(draft, f"team/{member['id']}/")).status_code == 404
    assert client.delete(_url(draft, f"team/{member['id']}/")).status_code == 204
    assert client.delete(_url(draft, f"team/{member['id']}/")).status_code == 404


def test_the_partner_is_invited(api_client, pi, draft):
    response = api_client(pi).post(_url(draft, "invite/"), {"email": "Ana@USP.example.br", "language": "fr"},
                                   format="json")
    assert response.status_code == 201
    assert response.json()["email"] == "ana@usp.example.br"
    assert draft.invitations.count() == 1


def test_withdrawing_frees_the_call_limit_and_forbids_submission(api_client, pi, draft):
    client = api_client(pi)
    response = client.post(_url(draft, "withdraw/"), {"reason": "Partner left."}, format="json")
    assert response.status_code == 200 and response.json()["state"] == "withdrawn"
    assert client.post(_url(draft, "submit/")).json()["error"]["code"] == "not_editable"
    assert client.post("/api/v1/proposals/", {"call": draft.call.year}, format="json").status_code == 201
    assert AuditEntry.objects.filter(action="proposal.withdraw", reason="Partner left.").exists()


def test_the_call_limit_and_an_unknown_call_are_clear_400s(api_client, pi, draft):
    client = api_client(pi)
    limit = client.post("/api/v1/proposals/", {"call": draft.call.year}, format="json")
    assert limit.status_code == 400 and limit.json()["error"]["code"] == "limit"
    unknown = client.post("/api/v1/proposals/", {"call": 1900}, format="json")
    assert unknown.status_code == 400 and "call" in unknown.json()["error"]["fields"]
    draft_call = CallFactory(year=2099, state="draft")
    assert client.post("/api/v1/proposals/", {"call": draft_call.year}, format="json").status_code == 400


# Who may reach what ------------------------------------------------------------------------------------


def test_anonymous_gets_401_everywhere(api_client, draft):
    client = api_client(None)
    assert client.get("/api/v1/proposals/").status_code == 401
    assert client.get(_url(draft)).status_code == 401
    assert client.post(_url(draft, "submit/")).status_code == 401


def test_another_pi_sees_nothing_and_reaches_nothing(api_client, draft, other_pi):
    client = api_client(other_pi)
    assert client.get("/api/v1/proposals/").json()["count"] == 0
    for response in (
        client.get(_url(draft)),
        client.patch(_url(draft), {"lock_version": 1, "title": "Mine"}, format="json"),
        client.post(_url(draft, "submit/")),
        client.post(_url(draft, "withdraw/")),
        _letter(client, draft),
        client.post(_url(draft, "invite/"), {"email": "x@example.org"}, format="json"),
    ):
        assert response.status_code == 404


def test_staff_read_every_proposal_but_change_none(api_client, draft):
    staff = StaffFactory()
    client = api_client(staff)
    assert client.get("/api/v1/proposals/").json()["count"] == 1
    assert client.get(_url(draft)).status_code == 200
    response = client.patch(_url(draft), {"lock_version": draft.lock_version, "title": "Staff"}, format="json")
    assert response.status_code == 403
    assert response.json()["error"]["message"] == "Only the PI and the co-applicants can change this proposal."
    assert client.post(_url(draft, "submit/")).status_code == 403


def test_staff_without_two_factor_are_refused(api_client, draft):
    staff = UserFactory(is_staff=True)
    response = api_client(staff).get("/api/v1/proposals/")
    assert response.status_code == 403
    assert "two-factor" in response.json()["error"]["message"]


def test_a_read_token_reads_but_never_writes(api_client, pi, draft):
    client = api_client(pi, scopes="read")
    assert client.get(_url(draft)).status_code == 200
    assert client.post(_url(draft, "submit/")).status_code == 403
    assert client.patch(_url(draft), {"lock_version": 1, "title": "x"}, format="json").status_code == 403


def test_the_list_filters_by_call_and_state(api_client, pi, draft):
    other_call = CallFactory(year=draft.call.year + 1)
    ProposalFactory(call=other_call, pi=pi, state=ProposalState.SUBMITTED)
    client = api_client(pi)
    assert client.get("/api/v1/proposals/").json()["count"] == 2
    assert client.get(f"/api/v1/proposals/?call={other_call.year}").json()["count"] == 1
    assert client.get("/api/v1/proposals/?state=draft").json()["results"][0]["reference"] == draft.reference
    bad = client.get("/api/v1/proposals/?state=nonsense")
    assert bad.status_code == 400 and "state" in bad.json()["error"]["fields"]


def test_the_list_and_the_detail_take_the_same_queries_at_two_sizes(api_client, pi, queries):
    client = api_client(StaffFactory())
    call = CallFactory()

    def propose(n):
        for _ in range(n):
            p = ProposalFactory(call=call, complete=True)
            for name in "ABC"[: 1 + Proposal.objects.count() % 3]:
                p.team.create(side="partner", name=name)

    # The detail of the newest proposal (the count includes the one query that finds it).
    latest = lambda: client.get(_url(Proposal.objects.order_by("-id").first()))  # noqa: E731
    assert queries.at_sizes(propose, lambda: client.get("/api/v1/proposals/"), sizes=(2, 10)) == (4, 4)
    assert queries.at_sizes(propose, latest, sizes=(1, 3)) == (10, 10)
