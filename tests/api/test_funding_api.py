"""Awards, tranches and annual reports through the API: who sees what (``funding.rules``), what each
representation says, the writes the web pages offer (confirm receipt; save, submit and review a report)
through the same domain functions and their audit entries, the domain's refusals as 4xx with its message,
and lists whose query count does not grow."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from funding.domain.awards import tranche_release
from funding.domain.reports import file_sha256, report_cosign, report_save, report_submit
from funding.models import Award, CosignInvitation, Report, ReportSpending, Tranche
from iea.audit.models import AuditEntry
from tests.factories import StaffFactory, UserFactory
from tests.funding.factories import award_factory, cast, make_panel_officer, make_unit_manager
from tests.pdfs import pdf_bytes, pdf_upload

pytestmark = pytest.mark.django_db

# Who sees the award of the ``award`` fixture (the roles of ``tests.funding.factories.cast``).
SEES = {"pi": True, "other_pi": False, "reviewer": False, "other_unit_manager": False, "unit_manager": True,
        "officer": True, "other_officer": False, "staff": True}


@pytest.fixture
def award(pi, staff):
    return award_factory(pi=pi, staff=staff)


@pytest.fixture
def people(award, staff):
    return cast(award, staff=staff)


def release(award, staff, number=1):
    return tranche_release(tranche_id=award.tranches.get(number=number).pk, user=staff, now=timezone.now())


def report_of(award, period="year1") -> Report:
    return Report.objects.get(award=award, period=period)


def fill(report: Report) -> Report:
    return report_save(report_id=report.pk, user=report.award.proposal.pi, scientific_review="Two missions.",
                       spending={"mobility": Decimal(2500)}, cofunding_received=None, cofunding_currency="",
                       now=timezone.now())


def submitted(award, period="year1") -> Report:
    report = fill(report_of(award, period))
    return report_submit(report_id=report.pk, user=award.proposal.pi, now=timezone.now())


def cosigned(award, period="year1") -> Report:
    report = submitted(award, period)
    invitation = CosignInvitation.objects.get(report=report, revoked_at__isnull=True)
    return report_cosign(invitation=invitation, signer_name="Ana Souza", now=timezone.now())


def entries(target, action):
    return list(AuditEntry.objects.filter(object_id=str(target.pk), action=action).values_list("actor", flat=True))


def error_of(response) -> dict:
    return response.json()["error"]


# ---------------------------------------------------------------------------------------------------------
# Who sees what
# ---------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/api/v1/awards/", "/api/v1/tranches/", "/api/v1/reports/"])
def test_anonymous_gets_401(api_client, award, path):
    response = api_client().get(path)
    assert response.status_code == 401
    assert error_of(response)["code"] == "not_authenticated"
    assert api_client().get(f"{path}{award.pk}/").status_code == 401


@pytest.mark.parametrize("who", list(SEES))
def test_each_list_is_what_the_role_may_see(api_client, award, people, who):
    other = Award.objects.get(proposal__pi=people["other_pi"])
    expected = {"other_pi": [other], "staff": [award, other]}.get(who, [award] if SEES[who] else [])
    client = api_client(people[who])

    awards = client.get("/api/v1/awards/")
    tranches = client.get("/api/v1/tranches/")
    reports = client.get("/api/v1/reports/")

    assert [a["id"] for a in awards.json()["results"]] == [a.pk for a in expected]
    assert [t["id"] for t in tranches.json()["results"]] == [
        t.pk for a in expected for t in a.tranches.order_by("number")]
    assert [r["id"] for r in reports.json()["results"]] == [
        r.pk for a in expected for r in (report_of(a, "year1"), report_of(a, "final"))]


@pytest.mark.parametrize("who", list(SEES))
def test_one_award_tranche_or_report_is_404_for_whoever_may_not_see_it(api_client, award, people, who):
    client = api_client(people[who])
    paths = [f"/api/v1/awards/{award.pk}/", f"/api/v1/tranches/{award.tranches.first().pk}/",
             f"/api/v1/reports/{report_of(award).pk}/"]
    assert [client.get(path).status_code for path in paths] == [200 if SEES[who] else 404] * 3


def test_a_missing_id_is_404_in_the_error_format(api_client, staff):
    for path in ("/api/v1/awards/999999/", "/api/v1/tranches/999999/", "/api/v1/reports/999999/"):
        response = api_client(staff).get(path)
        assert response.status_code == 404
        assert error_of(response)["code"] == "not_found"


@pytest.mark.parametrize("who", ["staff", "officer"])
def test_confidential_roles_need_two_factor_authentication(api_client, award, who):
    user = StaffFactory(mfa=False) if who == "staff" else make_panel_officer(award)
    if who == "officer":
        user.authenticator_set.all().delete()
    for path in ("/api/v1/awards/", "/api/v1/tranches/", "/api/v1/reports/"):
        response = api_client(user).get(path)
        assert response.status_code == 403
        assert "two-factor" in error_of(response)["message"]


# ---------------------------------------------------------------------------------------------------------
# What an award, a tranche and a report say
# ---------------------------------------------------------------------------------------------------------

def test_an_award_with_its_tranches_and_reports(api_client, award, staff):
    release(award, staff)
    proposal = award.proposal
    body = api_client(proposal.pi).get(f"/api/v1/awards/{award.pk}/").json()
    one, two = award.tranches.order_by("number")
    year1, final = report_of(award, "year1"), report_of(award, "final")

    assert {key: body[key] for key in ("reference", "title", "acronym", "pi_name", "call", "unit", "amount", "state",
                                       "start_date", "end_date", "declined_at", "decline_reason", "cancelled_at",
                                       "closed_at")} == {
        "reference": proposal.reference, "title": proposal.title, "acronym": "COAST",
        "pi_name": "Paula Investigator", "call": proposal.call.year, "unit": award.unit.code, "amount": "12000.00",
        "state": "active", "start_date": award.start_date.isoformat(), "end_date": award.end_date.isoformat(),
        "declined_at": None, "decline_reason": "", "cancelled_at": None, "closed_at": None,
    }
    assert body["accepted_at"] is not None and body["accept_by"] is not None
    assert [(t["id"], t["number"], t["amount"], t["state"], t["received_at"], t["gate"]) for t in body["tranches"]] == [
        (one.pk, 1, "6000.00", "released", None, None),
        (two.pk, 2, "6000.00", "planned", None,
         "Tranche 2 is released only after the year 1 reports are approved; they are: draft."),
    ]
    assert body["tranches"][0]["released_at"] is not None and body["tranches"][1]["released_at"] is None
    assert [(r["id"], r["period"], r["state"], r["due_date"], r["submitted_at"]) for r in body["reports"]] == [
        (year1.pk, "year1", "draft", award.start_date.replace(year=award.start_date.year + 1).isoformat(), None),
        (final.pk, "final", "draft", award.end_date.isoformat(), None),
    ]
    assert "scientific_review" not in body["reports"][0]


def test_a_withheld_tranche_says_when_and_why(api_client, award, staff):
    from funding.domain.awards import tranche_withhold

    tranche = award.tranches.get(number=1)
    tranche_withhold(tranche_id=tranche.pk, user=staff, reason="Missing bank details.", now=timezone.now())
    body = api_client(award.proposal.pi).get(f"/api/v1/tranches/{tranche.pk}/").json()
    assert (body["state"], body["withheld_reason"], body["released_at"], body["gate"]) == (
        "withheld", "Missing bank details.", None, None)
    assert body["withheld_at"] is not None
    assert (body["award"], body["reference"], body["unit"]) == (award.pk, award.proposal.reference, award.unit.code)


def test_a_report_reads_as_on_the_web_without_the_file(api_client, award, people):
    report = report_save(report_id=report_of(award).pk, user=award.proposal.pi, scientific_review="Two missions.",
                         spending={"mobility": Decimal(2500), "meetings": Decimal("1200.5")},
                         cofunding_received=Decimal(3000), cofunding_currency="brl", now=timezone.now())
    body = api_client(people["unit_manager"]).get(f"/api/v1/reports/{report.pk}/").json()
    assert {key: value for key, value in body.items() if key not in ("updated_at", "due_date")} == {
        "id": report.pk, "award": award.pk, "reference": award.proposal.reference, "period": "year1",
        "state": "draft", "scientific_review": "Two missions.", "has_scientific_pdf": False,
        "scientific_pdf_sha256": "", "cofunding_received": "3000.00", "cofunding_currency": "BRL",
        "spending": {"mobility": "2500.00", "meetings": "1200.50", "field": "0.00", "other": "0.00"},
        "submitted_at": None, "cosigned_at": None, "cosigned_by": "", "cosign_declined_at": None,
        "cosign_declined_by": "", "cosign_decline_comment": "", "reviewed_at": None, "review_comment": "",
    }


def test_lists_filter_by_call_and_state(api_client, award, staff, people):
    other = Award.objects.get(proposal__pi=people["other_pi"])
    release(award, staff)
    client = api_client(staff)

    def ids(path, **params):
        response = client.get(path, params)
        assert response.status_code == 200, response.json()
        return [row["id"] for row in response.json()["results"]]

    assert ids("/api/v1/awards/", call=award.proposal.call.year) == [award.pk]
    assert ids("/api/v1/awards/", state="active") == [award.pk, other.pk]
    assert ids("/api/v1/awards/", state="closed") == []
    assert ids("/api/v1/tranches/", state="released") == [award.tranches.get(number=1).pk]
    assert ids("/api/v1/tranches/", award=other.pk) == list(other.tranches.order_by("number").values_list("pk", flat=True))
    assert ids("/api/v1/tranches/", call=other.proposal.call.year, state="released") == []
    assert ids("/api/v1/reports/", award=award.pk, period="final") == [report_of(award, "final").pk]
    assert ids("/api/v1/reports/", state="cosigned") == []


def test_a_filter_value_that_is_not_one_of_the_choices_is_a_400_on_its_field(api_client, staff):
    response = api_client(staff).get("/api/v1/tranches/", {"state": "lost"})
    assert response.status_code == 400
    assert list(error_of(response)["fields"]) == ["state"]
    assert api_client(staff).get("/api/v1/awards/", {"call": "next"}).status_code == 400


# ---------------------------------------------------------------------------------------------------------
# The unit manager confirms the receipt of a tranche
# ---------------------------------------------------------------------------------------------------------

def receipt_url(tranche):
    return f"/api/v1/tranches/{tranche.pk}/confirm-receipt/"


def test_the_unit_manager_confirms_the_receipt_of_a_released_tranche_once(api_client, award, staff, people):
    tranche = release(award, staff)
    manager = people["unit_manager"]

    response = api_client(manager).post(receipt_url(tranche))

    assert response.status_code == 200, response.json()
    tranche.refresh_from_db()
    received_at = dt.datetime.fromisoformat(response.json()["received_at"])
    assert (tranche.received_by, received_at) == (manager, tranche.received_at)
    assert entries(tranche, "tranche.receipt") == [manager.pk]
    again = api_client(manager).post(receipt_url(tranche))
    assert again.status_code == 200
    assert entries(tranche, "tranche.receipt") == [manager.pk]


def test_a_planned_tranche_cannot_be_received(api_client, award, people):
    tranche = award.tranches.get(number=1)
    response = api_client(people["unit_manager"]).post(receipt_url(tranche))
    assert response.status_code == 400
    assert error_of(response) == {"status": 400, "code": "not_released",
                                  "message": "Only a released tranche can be received."}
    assert Tranche.objects.get(pk=tranche.pk).received_at is None


@pytest.mark.parametrize("who, status", [("pi", 403), ("officer", 403), ("staff", 403), ("other_unit_manager", 404),
                                         ("other_pi", 404), ("other_officer", 404), ("reviewer", 404)])
def test_only_the_unit_manager_confirms_a_receipt(api_client, award, staff, people, who, status):
    tranche = release(award, staff)
    response = api_client(people[who]).post(receipt_url(tranche))
    assert response.status_code == status
    if status == 403:
        assert error_of(response)["message"] == "Only a manager of the award's unit can confirm receipt."
    assert Tranche.objects.get(pk=tranche.pk).received_at is None
    assert entries(tranche, "tranche.receipt") == []


def test_a_read_token_does_not_confirm_a_receipt(api_client, award, staff, people):
    tranche = release(award, staff)
    response = api_client(people["unit_manager"], scopes="read").post(receipt_url(tranche))
    assert response.status_code == 403
    assert "may only read" in error_of(response)["message"]
    assert Tranche.objects.get(pk=tranche.pk).received_at is None


def test_staff_release_and_withhold_stay_in_the_admin(api_client, award, staff):
    tranche = award.tranches.get(number=1)
    client = api_client(staff)
    assert client.post(f"/api/v1/tranches/{tranche.pk}/release/").status_code == 404
    assert client.patch(f"/api/v1/tranches/{tranche.pk}/", {"state": "released"}, format="json").status_code == 405


# ---------------------------------------------------------------------------------------------------------
# The PI saves and submits the report
# ---------------------------------------------------------------------------------------------------------

def report_url(report, suffix=""):
    return f"/api/v1/reports/{report.pk}/{suffix}"


def test_the_pi_saves_the_report_in_json_and_what_is_left_out_is_kept(api_client, award):
    report = report_of(award)
    client = api_client(award.proposal.pi)

    first = client.patch(report_url(report), {
        "scientific_review": "  Two missions to São Paulo.  ", "spending": {"mobility": "2500", "meetings": 1200},
        "cofunding_received": "3000", "cofunding_currency": "brl",
    }, format="json")
    second = client.patch(report_url(report), {"spending": {"meetings": "900.10"}}, format="json")

    assert first.status_code == 200, first.json()
    assert second.status_code == 200, second.json()
    body = second.json()
    assert (body["scientific_review"], body["cofunding_received"], body["cofunding_currency"], body["state"]) == (
        "Two missions to São Paulo.", "3000.00", "BRL", "draft")
    assert body["spending"] == {"mobility": "2500.00", "meetings": "900.10", "field": "0.00", "other": "0.00"}
    assert dict(ReportSpending.objects.filter(report=report).values_list("category", "amount")) == {
        "mobility": Decimal("2500.00"), "meetings": Decimal("900.10"), "field": 0, "other": 0}
    assert entries(report, "report.save") == [award.proposal.pi.pk] * 2


def test_the_pi_attaches_the_scientific_review_as_a_pdf_in_multipart(api_client, award):
    report = report_of(award)
    content = pdf_bytes(2)
    response = api_client(award.proposal.pi).patch(report_url(report), {
        "scientific_pdf": pdf_upload("review.pdf", content), "spending.mobility": "100", "spending.other": "5",
        "cofunding_received": "",
    }, format="multipart")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["has_scientific_pdf"], body["scientific_pdf_sha256"]) == (True, file_sha256(content))
    assert (body["spending"]["mobility"], body["spending"]["other"], body["cofunding_received"]) == (
        "100.00", "5.00", None)


def test_in_multipart_the_spending_may_also_be_one_json_part(api_client, award):
    report = report_of(award)
    response = api_client(award.proposal.pi).patch(report_url(report), {
        "spending": '{"field": "750.25"}', "scientific_review": "Fieldwork."}, format="multipart")
    assert response.status_code == 200, response.json()
    assert response.json()["spending"]["field"] == "750.25"
    bad = api_client(award.proposal.pi).patch(report_url(report), {"spending": "lots"}, format="multipart")
    assert bad.status_code == 400
    assert list(error_of(bad)["fields"]) == ["spending"]


@pytest.mark.parametrize("body, field", [
    ({"spending": {"mobility": "-1"}}, "spending"),
    ({"spending": {"mobility": "1000000"}}, "spending"),
    ({"cofunding_currency": "euro"}, "cofunding_currency"),
    ({"cofunding_currency": "E1R"}, "cofunding_currency"),
    ({"cofunding_received": "500"}, "cofunding_currency"),
    ({"scientific_review": None}, "scientific_review"),
    ({"scientific_pdf": "not a file"}, "scientific_pdf"),
])
def test_invalid_fields_are_a_400_on_the_field_and_nothing_is_saved(api_client, award, body, field):
    report = report_of(award)
    response = api_client(award.proposal.pi).patch(report_url(report), body, format="json")
    assert response.status_code == 400
    assert list(error_of(response)["fields"]) == [field]
    assert entries(report, "report.save") == []


def test_a_file_that_is_not_a_pdf_is_refused_with_the_reason(api_client, award):
    report = report_of(award)
    response = api_client(award.proposal.pi).patch(report_url(report), {
        "scientific_pdf": pdf_upload("review.pdf", b"MZ\x90\x00 a program")}, format="multipart")
    assert response.status_code == 400
    assert error_of(response)["fields"]["scientific_pdf"] == [
        "This file is a program, not a PDF document. Upload the letter as a PDF."]
    assert not report_of(award).scientific_pdf


def test_a_submitted_report_can_no_longer_be_changed(api_client, award):
    report = submitted(award)
    response = api_client(award.proposal.pi).patch(report_url(report), {"scientific_review": "Later."}, format="json")
    assert response.status_code == 400
    assert error_of(response) == {"status": 400, "code": "locked", "message": (
        "This report is waiting for the partner's co-signature; it can no longer be changed.")}
    assert report_of(award).scientific_review == "Two missions."


def test_the_pi_submits_a_complete_report_and_the_partner_is_invited_to_cosign(api_client, award):
    report = fill(report_of(award))
    response = api_client(award.proposal.pi).post(report_url(report, "submit/"))
    assert response.status_code == 200, response.json()
    assert (response.json()["state"], response.json()["submitted_at"] is not None) == ("submitted", True)
    assert list(CosignInvitation.objects.filter(report=report).values_list("email", flat=True)) == [
        award.proposal.partner_email]
    assert AuditEntry.objects.filter(object_id=str(report.pk), action="report.submit").values_list(
        "actor", "from_state", "to_state").get() == (award.proposal.pi.pk, "draft", "submitted")


def test_an_incomplete_report_is_refused_with_what_is_missing(api_client, award):
    report = report_of(award)
    response = api_client(award.proposal.pi).post(report_url(report, "submit/"))
    assert response.status_code == 400
    assert error_of(response) == {"status": 400, "code": "incomplete", "message": (
        "Still missing: the scientific review (text or PDF), the spending by category.")}
    assert report_of(award).state == "draft"


@pytest.mark.parametrize("who, status", [("unit_manager", 403), ("officer", 403), ("staff", 403), ("other_pi", 404),
                                         ("other_unit_manager", 404), ("other_officer", 404), ("reviewer", 404)])
def test_only_the_pi_saves_and_submits_the_report(api_client, award, people, who, status):
    report = fill(report_of(award))
    client = api_client(people[who])
    saved = client.patch(report_url(report), {"scientific_review": "Not mine."}, format="json")
    sent = client.post(report_url(report, "submit/"))
    assert (saved.status_code, sent.status_code) == (status, status)
    if status == 403:
        assert error_of(saved)["message"] == error_of(sent)["message"] == "Only the PI files the reports."
    assert (report_of(award).state, report_of(award).scientific_review) == ("draft", "Two missions.")


def test_a_read_token_does_not_save_or_submit(api_client, award):
    report = fill(report_of(award))
    client = api_client(award.proposal.pi, scopes="read")
    assert client.patch(report_url(report), {"scientific_review": "No."}, format="json").status_code == 403
    assert client.post(report_url(report, "submit/")).status_code == 403
    assert (report_of(award).state, report_of(award).scientific_review) == ("draft", "Two missions.")


def test_put_is_not_offered(api_client, award):
    response = api_client(award.proposal.pi).put(report_url(report_of(award)), {}, format="json")
    assert response.status_code == 405


# ---------------------------------------------------------------------------------------------------------
# The officer or staff review the co-signed report
# ---------------------------------------------------------------------------------------------------------

def test_the_officer_approves_the_year_1_report_and_the_gate_of_tranche_2_opens(api_client, award, staff, people):
    release(award, staff)
    report = cosigned(award)
    officer = people["officer"]

    response = api_client(officer).post(report_url(report, "review/"), {"approve": True}, format="json")

    assert response.status_code == 200, response.json()
    assert (response.json()["state"], response.json()["reviewed_at"] is not None) == ("approved", True)
    assert AuditEntry.objects.filter(object_id=str(report.pk), action="report.approve").values_list(
        "actor", "from_state", "to_state").get() == (officer.pk, "cosigned", "approved")
    tranche = api_client(officer).get(f"/api/v1/tranches/{award.tranches.get(number=2).pk}/").json()
    assert tranche["gate"] == ""


def test_staff_ask_for_changes_with_a_comment_the_pi_reads(api_client, award, staff):
    report = cosigned(award)
    response = api_client(staff).post(report_url(report, "review/"),
                                      {"approve": False, "comment": "Detail the field missions."}, format="json")
    assert response.status_code == 200, response.json()
    assert (response.json()["state"], response.json()["review_comment"]) == ("changes", "Detail the field missions.")
    body = api_client(award.proposal.pi).get(report_url(report)).json()
    assert body["review_comment"] == "Detail the field missions."
    assert entries(report, "report.changes") == [staff.pk]


def test_approving_the_final_report_closes_the_award(api_client, award, staff):
    report = cosigned(award, "final")
    assert api_client(staff).post(report_url(report, "review/"), {"approve": True}, format="json").status_code == 200
    body = api_client(staff).get(f"/api/v1/awards/{award.pk}/").json()
    assert (body["state"], body["closed_at"] is not None) == ("closed", True)


def test_asking_for_changes_needs_a_comment(api_client, award, staff):
    report = cosigned(award)
    response = api_client(staff).post(report_url(report, "review/"), {"approve": False, "comment": " "}, format="json")
    assert response.status_code == 400
    assert error_of(response) == {"status": 400, "code": "comment", "message": "Say what must change."}
    assert report_of(award).state == "cosigned"


def test_only_a_cosigned_report_is_reviewed(api_client, award, staff):
    report = submitted(award)
    response = api_client(staff).post(report_url(report, "review/"), {"approve": True}, format="json")
    assert response.status_code == 400
    assert error_of(response)["message"] == (
        "Only a co-signed report can be reviewed; this one is waiting for the partner's co-signature.")


def test_the_review_needs_approve(api_client, award, staff):
    report = cosigned(award)
    response = api_client(staff).post(report_url(report, "review/"), {"comment": "Fine."}, format="json")
    assert response.status_code == 400
    assert list(error_of(response)["fields"]) == ["approve"]
    assert api_client(staff).post(report_url(report, "review/"), {"approve": "true"},
                                  format="multipart").status_code == 415
    assert report_of(award).state == "cosigned"


@pytest.mark.parametrize("who, status", [("pi", 403), ("unit_manager", 403), ("other_pi", 404),
                                         ("other_unit_manager", 404), ("other_officer", 404), ("reviewer", 404)])
def test_who_may_not_review_a_report_cannot(api_client, award, people, who, status):
    report = cosigned(award)
    response = api_client(people[who]).post(report_url(report, "review/"), {"approve": True}, format="json")
    assert response.status_code == status
    if status == 403:
        assert error_of(response)["message"] == "Only directorate staff or the institute's officer review reports."
    assert report_of(award).state == "cosigned"


def test_nobody_reviews_the_report_of_their_own_award(api_client, staff):
    own = award_factory(pi=StaffFactory(), staff=staff)
    report = cosigned(own)
    response = api_client(own.proposal.pi).post(report_url(report, "review/"), {"approve": True}, format="json")
    assert response.status_code == 403
    assert report_of(own).state == "cosigned"


def test_a_read_token_does_not_review(api_client, award, staff):
    report = cosigned(award)
    response = api_client(staff, scopes="read").post(report_url(report, "review/"), {"approve": True}, format="json")
    assert response.status_code == 403
    assert report_of(award).state == "cosigned"


# ---------------------------------------------------------------------------------------------------------
# Query counts
# ---------------------------------------------------------------------------------------------------------

def _more_awards(count, *, staff, manager, pi):
    """Awards of one PI and one unit manager, with a released tranche and a saved report, as lists show them."""
    for _ in range(count):
        award = award_factory(staff=staff, pi=pi)
        make_unit_manager(award, manager)
        release(award, staff)
        fill(report_of(award))


LIST_QUERIES = {
    ("staff", "/api/v1/awards/"): (6, 6), ("manager", "/api/v1/awards/"): (7, 7), ("pi", "/api/v1/awards/"): (7, 7),
    ("staff", "/api/v1/tranches/"): (6, 6), ("manager", "/api/v1/tranches/"): (7, 7), ("pi", "/api/v1/tranches/"): (7, 7),
    ("staff", "/api/v1/reports/"): (5, 5), ("manager", "/api/v1/reports/"): (6, 6), ("pi", "/api/v1/reports/"): (6, 6),
}


@pytest.mark.parametrize("who", ["staff", "manager", "pi"])
@pytest.mark.parametrize("path", ["/api/v1/awards/", "/api/v1/tranches/", "/api/v1/reports/"])
def test_list_queries_do_not_grow(api_client, staff, who, path, queries):
    pi, manager = UserFactory(), UserFactory()
    client = api_client({"staff": staff, "manager": manager, "pi": pi}[who])
    more = lambda n: _more_awards(n, staff=staff, manager=manager, pi=pi)  # noqa: E731
    assert queries.at_sizes(more, lambda: client.get(path), sizes=(2, 8)) == LIST_QUERIES[who, path]
    per_award = 1 if path == "/api/v1/awards/" else 2
    assert client.get(path).json()["count"] == 8 * per_award
