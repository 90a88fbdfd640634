"""Funding in the Django admin: who reaches it, the actions on awards and reports (each through the
domain, refusals shown with their reason), editing planned tranches through ``tranche_update``, the XLSX
export, and query counts at two sizes."""

import datetime as dt
import io
import re
from decimal import Decimal
from html.parser import HTMLParser

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from openpyxl import load_workbook

from funding.domain.awards import tranche_release
from funding.domain.reports import cosign_token
from funding.models import (
    Award,
    AwardState,
    CosignInvitation,
    Report,
    ReportPeriod,
    ReportState,
    SpendingLine,
    Tranche,
    TrancheState,
)
from iea.audit.models import AuditEntry
from tests.factories import StaffFactory

from .admin_factories import add_spending, make_award, report, set_report_state, tranche

pytestmark = pytest.mark.django_db

GATE = "Tranche 2 is released only after the year 1 reports are approved; they are: draft."


@pytest.fixture
def english(client):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


@pytest.fixture
def award(staff):
    return make_award(amount=Decimal(12000), user=staff)


@pytest.fixture
def signed_in(english, staff):
    english.force_login(staff)
    return english


def changelist(model: str) -> str:
    return reverse(f"admin:funding_{model}_changelist")


def act(client, model: str, action: str, objects, **data):
    """Post an admin action on ``objects`` from the list, following the redirect."""
    return client.post(changelist(model), {"action": action, "_selected_action": [o.pk for o in objects], **data},
                       follow=True)


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]] if response.context else []


def snapshot():
    """Everything the funding admin could change."""
    return (
        list(Award.objects.order_by("pk").values_list("pk", "amount", "state")),
        list(Tranche.objects.order_by("pk").values_list("pk", "amount", "planned_date", "state", "withheld_reason")),
        list(Report.objects.order_by("pk").values_list("pk", "state", "review_comment")),
        AuditEntry.objects.count(),
    )


# Access ---------------------------------------------------------------------------------------------------------


def pages(award):
    first = tranche(award, 1)
    year_1 = report(award)
    line = add_spending(award, category="mobility", amount=Decimal(100))
    invitation = CosignInvitation.objects.create(report=year_1, email="ana@usp.example.br", created_at=timezone.now(),
                                                 expires_at=timezone.now() + dt.timedelta(days=30))
    return [
        changelist("award"), reverse("admin:funding_award_change", args=[award.pk]),
        changelist("report"), reverse("admin:funding_report_change", args=[year_1.pk]),
        changelist("tranche"), reverse("admin:funding_tranche_change", args=[first.pk]),
        changelist("spendingline"), reverse("admin:funding_spendingline_change", args=[line.pk]),
        changelist("cosigninvitation"), reverse("admin:funding_cosigninvitation_change", args=[invitation.pk]),
        reverse("admin:app_list", args=["funding"]),
    ]


ACTIONS = [
    ("award", "release_next_tranche", {"apply": "1"}),
    ("award", "withhold_next_tranche", {"apply": "1", "reason": "No."}),
    ("award", "suspend_awards", {"apply": "1", "reason": "No."}),
    ("award", "resume_awards", {"apply": "1", "reason": "No."}),
    ("award", "cancel_awards", {"apply": "1", "reason": "No."}),
    ("award", "export_xlsx", {}),
    ("report", "approve_reports", {"apply": "1"}),
    ("report", "ask_for_changes", {"apply": "1", "reason": "No."}),
]


def post_every_action(client, award):
    responses = []
    for model, action, data in ACTIONS:
        objects = [award] if model == "award" else list(award.reports.all())
        responses.append(client.post(changelist(model), {"action": action, "_selected_action": [o.pk for o in objects],
                                                         **data}))
    responses.append(client.post(reverse("admin:funding_award_change", args=[award.pk]), {}))
    return responses


def test_anonymous_and_non_staff_are_sent_to_the_admin_sign_in(client, staff, award):
    set_report_state(award, ReportPeriod.YEAR_1, ReportState.COSIGNED)
    urls = pages(award)
    before = snapshot()
    for user in (None, award.proposal.pi):
        if user is not None:
            client.force_login(user)
        for url in urls:
            response = client.get(url)
            assert (response.status_code, response["Location"].split("?")[0]) == (302, "/admin/login/"), url
        for response in post_every_action(client, award):
            assert (response.status_code, response["Location"].split("?")[0]) == (302, "/admin/login/")
    assert snapshot() == before


def test_staff_without_the_permissions_change_nothing(client, award):
    """Any staff member is directorate staff for ``funding.rules`` (``funding.view_award``, which is also
    the name of the admin's view permission): they see the awards, and nothing else without permissions."""
    set_report_state(award, ReportPeriod.YEAR_1, ReportState.COSIGNED)
    urls = pages(award)
    before = snapshot()
    client.force_login(StaffFactory(is_superuser=False))
    for url in urls[:-1]:
        expected = 200 if "/funding/award/" in url else 403
        assert client.get(url).status_code == expected, url
    statuses = [response.status_code for response in post_every_action(client, award)]
    # the five award actions are not offered (back to the list), the export is a view; the rest is refused
    assert statuses == [302] * 5 + [200] + [403] * 3
    assert snapshot() == before


def test_staff_who_may_only_view_awards_cannot_act_on_them(english, award):
    viewer = StaffFactory(is_superuser=False)
    viewer.user_permissions.add(*Permission.objects.filter(codename__in=["view_award", "view_report", "view_tranche"]))
    set_report_state(award, ReportPeriod.YEAR_1, ReportState.COSIGNED)
    before = snapshot()
    english.force_login(viewer)
    listing = english.get(changelist("award"))
    assert listing.status_code == 200
    content = listing.content.decode()
    assert 'value="export_xlsx"' in content
    assert 'value="release_next_tranche"' not in content
    for model, action, data in ACTIONS:
        if action == "export_xlsx":
            continue
        objects = [award] if model == "award" else list(award.reports.all())
        response = act(english, model, action, objects, **data)
        assert response.status_code == 200
    change = english.get(reverse("admin:funding_award_change", args=[award.pk]))
    assert b'name="tranches-0-amount"' not in change.content
    assert english.post(reverse("admin:funding_award_change", args=[award.pk]), {}).status_code == 403
    assert snapshot() == before


# The award list and page ----------------------------------------------------------------------------------------


def result_rows(response) -> list[list[str]]:
    """The cells of the admin list's rows, as text (the selection checkbox left out)."""
    table = response.content.decode().split('id="result_list"')[1].split("</table>")[0]
    body = table.split("<tbody>")[1]
    return [
        [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", cell)).strip() for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)][1:]
        for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)
    ]


def test_the_award_list_shows_each_award_with_its_totals(signed_in, award, staff):
    tranche_release(tranche_id=tranche(award, 1).pk, user=staff, now=timezone.now())
    add_spending(award, category="mobility", amount=Decimal("1234.50"))
    add_spending(award, category="meetings", amount=Decimal(100))
    response = signed_in.get(changelist("award"))
    assert response.status_code == 200
    proposal = award.proposal
    assert result_rows(response) == [[
        proposal.reference, "COAST", proposal.pi.full_name, award.unit.code, proposal.institute.code,
        "€12,000.00", "€6,000.00", "€1,334.50", "Active", date_format(award.end_date),
    ]]


@pytest.mark.parametrize("query", ["reference", "email", "unit", "state", "delegation", "institute", "call"])
def test_the_award_list_filters_and_search(signed_in, staff, query):
    kept = make_award(user=staff, title="Coral reefs and heat waves")
    other = make_award(user=staff)
    Award.objects.filter(pk=other.pk).update(state=AwardState.SUSPENDED)
    params = {
        "reference": {"q": kept.proposal.reference},
        "email": {"q": kept.proposal.pi.email},
        "unit": {"q": kept.unit.acronym},
        "state": {"state__exact": "active"},
        "delegation": {"unit__delegation__id__exact": kept.unit.delegation_id},
        "institute": {"institute": kept.proposal.institute.pk},
        "call": {"proposal__call__id__exact": kept.proposal.call_id},
    }[query]
    response = signed_in.get(changelist("award"), params)
    assert response.status_code == 200
    assert [a.pk for a in response.context["cl"].result_list] == [kept.pk]


def test_the_award_page_shows_tranches_reports_and_spending_read_only_but_planned_tranches(signed_in, award, staff):
    tranche_release(tranche_id=tranche(award, 1).pk, user=staff, now=timezone.now())
    add_spending(award, category="field", amount=Decimal(250), description="Field trip to Recife")
    response = signed_in.get(reverse("admin:funding_award_change", args=[award.pk]))
    content = response.content.decode()
    assert response.status_code == 200
    assert 'name="tranches-1-amount"' in content
    assert 'name="tranches-0-amount"' in content.split('id="tranches-0"')[1].split("</tr>")[0]
    released_row = content.split('id="tranches-0"')[1].split("</tr>")[0]
    assert "disabled" in released_row
    assert "disabled" not in content.split('id="tranches-1"')[1].split("</tr>")[0]
    assert reverse("funding:report", kwargs={"pk": award.pk, "period": "year1"}) in content
    assert reverse("admin:funding_report_change", args=[report(award).pk]) in content
    assert "Field trip to Recife" in content
    assert 'name="reports-0-state"' not in content
    assert 'name="tranches-MAX_NUM_FORMS" value="0"' in content


class FormFields(HTMLParser):
    """The fields a browser would post from the admin's change form (disabled ones are not posted)."""

    def __init__(self):
        super().__init__()
        self.data, self._select, self._textarea = {}, None, None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        name = attrs.get("name")
        if "disabled" in attrs or not name:
            if tag == "select":
                self._select = None
            return
        if tag == "input" and attrs.get("type") not in ("submit", "checkbox", "button"):
            self.data[name] = attrs.get("value") or ""
        elif tag == "select":
            self._select = name
            self.data.setdefault(name, "")
        elif tag == "option" and self._select and "selected" in attrs:
            self.data[self._select] = attrs.get("value", "")
        elif tag == "textarea":
            self._textarea = name
            self.data[name] = ""

    def handle_data(self, data):
        if self._textarea:
            self.data[self._textarea] += data

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def change_form(client, award) -> dict:
    parser = FormFields()
    parser.feed(client.get(reverse("admin:funding_award_change", args=[award.pk])).content.decode())
    return parser.data


def amounts(award) -> list[Decimal]:
    return list(Tranche.objects.filter(award=award).order_by("number").values_list("amount", flat=True))


def test_planned_tranches_are_changed_through_the_domain(signed_in, award):
    data = change_form(signed_in, award)
    later = award.start_date + dt.timedelta(days=380)
    # Raising tranche 2 before lowering tranche 1 would pass over the award: the admin lowers first.
    data.update({"tranches-0-amount": "5000.00", "tranches-1-amount": "7000.00", "tranches-1-planned_date": later.isoformat()})
    response = signed_in.post(reverse("admin:funding_award_change", args=[award.pk]), data, follow=True)
    assert response.status_code == 200
    assert amounts(award) == [Decimal(5000), Decimal(7000)]
    assert tranche(award, 2).planned_date == later
    assert AuditEntry.objects.filter(action="tranche.update").count() == 2
    assert any("was changed successfully" in message for message in messages_of(response))


def test_a_tranche_edit_over_the_award_is_refused_with_the_domains_message(signed_in, award):
    data = change_form(signed_in, award)
    data["tranches-1-amount"] = "6500.00"
    url = reverse("admin:funding_award_change", args=[award.pk])
    response = signed_in.post(url, data, follow=True)
    assert response.redirect_chain == [(url, 302)]
    assert messages_of(response) == [
        "Tranche 2 was not changed: The tranches would add up to €12,500.00, more than the award of €12,000.00."]
    assert amounts(award) == [Decimal(6000), Decimal(6000)]
    assert AuditEntry.objects.filter(action="tranche.update").count() == 0


def test_a_released_tranche_cannot_be_changed_from_the_page(signed_in, award, staff):
    data = change_form(signed_in, award)
    tranche_release(tranche_id=tranche(award, 1).pk, user=staff, now=timezone.now())
    # A page loaded before the release posts the old, still editable fields: the domain refuses.
    data["tranches-0-amount"] = "1000.00"
    response = signed_in.post(reverse("admin:funding_award_change", args=[award.pk]), data, follow=True)
    assert messages_of(response) == ["Tranche 1 was not changed: Only a planned tranche can be changed."]
    # A fresh page does not post the released tranche at all.
    data = change_form(signed_in, award)
    assert "tranches-0-amount" not in data
    data["tranches-0-amount"] = "1000.00"
    signed_in.post(reverse("admin:funding_award_change", args=[award.pk]), data)
    assert amounts(award) == [Decimal(6000), Decimal(6000)]
    assert AuditEntry.objects.filter(action="tranche.update").count() == 0


def test_the_award_itself_is_not_edited_from_its_page(signed_in, award):
    data = change_form(signed_in, award)
    data.update({"amount": "1", "state": "closed", "start_date": "2020-01-01"})
    before = snapshot()
    signed_in.post(reverse("admin:funding_award_change", args=[award.pk]), data)
    assert snapshot()[:3] == before[:3]
    assert signed_in.get(reverse("admin:funding_award_add")).status_code == 403
    assert signed_in.post(reverse("admin:funding_award_delete", args=[award.pk]), {"post": "yes"}).status_code == 403
    assert Award.objects.filter(pk=award.pk).exists()


# Actions on awards --------------------------------------------------------------------------------------------


def test_release_goes_through_the_gate_and_shows_each_refusal(signed_in, award, staff):
    blocked = make_award(user=staff)
    tranche_release(tranche_id=tranche(blocked, 1).pk, user=staff, now=timezone.now())
    before = tranche(blocked, 2)

    response = act(signed_in, "award", "release_next_tranche", [award, blocked], apply="1")

    assert response.status_code == 200
    assert sorted(messages_of(response)) == sorted([
        f"{award.proposal.reference}, tranche 1: €6,000.00 released.",
        f"{blocked.proposal.reference}, tranche 2: {GATE}",
    ])
    assert tranche(award, 1).state == TrancheState.RELEASED
    after = tranche(blocked, 2)
    assert (after.state, after.decided_at, after.decided_by) == (before.state, None, None)


def test_release_after_the_year_1_reports_are_approved(signed_in, award, staff):
    tranche_release(tranche_id=tranche(award, 1).pk, user=staff, now=timezone.now())
    set_report_state(award, ReportPeriod.YEAR_1, ReportState.COSIGNED)
    act(signed_in, "report", "approve_reports", [report(award)], apply="1")
    response = act(signed_in, "award", "release_next_tranche", [award], apply="1")
    assert messages_of(response) == [f"{award.proposal.reference}, tranche 2: €6,000.00 released."]
    assert tranche(award, 2).state == TrancheState.RELEASED
    response = act(signed_in, "award", "release_next_tranche", [award], apply="1")
    assert messages_of(response) == [f"{award.proposal.reference}: no planned tranche is left."]


def test_withhold_asks_for_the_reason_first(signed_in, award):
    page = act(signed_in, "award", "withhold_next_tranche", [award])
    content = page.content.decode()
    assert page.templates[0].name == "admin/iea_action_confirm.html"
    assert f"{award.proposal.reference}" in content and "tranche 1 (€6,000.00)" in content
    assert 'name="reason"' in content
    assert tranche(award, 1).state == TrancheState.PLANNED

    empty = act(signed_in, "award", "withhold_next_tranche", [award], apply="1", reason="   ")
    assert "This field is required." in empty.content.decode()
    assert tranche(award, 1).state == TrancheState.PLANNED

    done = act(signed_in, "award", "withhold_next_tranche", [award], apply="1", reason="The unit has no manager.")
    assert messages_of(done) == [f"{award.proposal.reference}, tranche 1: €6,000.00 withheld."]
    withheld = tranche(award, 1)
    assert (withheld.state, withheld.withheld_reason) == (TrancheState.WITHHELD, "The unit has no manager.")
    assert tranche(award, 2).state == TrancheState.PLANNED


def test_cancel_a_declined_award_with_a_reason_and_refuse_an_active_one(signed_in, award, staff):
    from funding.domain.acceptance import award_decline

    declined = make_award(amount=Decimal(11000), user=staff)
    Award.objects.filter(pk=declined.pk).update(state=AwardState.AWAITING, accepted_at=None)
    award_decline(award_id=declined.pk, user=declined.proposal.pi, reason="A post abroad.", now=timezone.now())
    page = act(signed_in, "award", "cancel_awards", [declined])
    assert "declined: A post abroad." in page.content.decode()
    assert Award.objects.get(pk=declined.pk).state == AwardState.DECLINED

    response = act(signed_in, "award", "cancel_awards", [declined, award], apply="1", reason="Declined by the PI.")
    assert sorted(messages_of(response)) == sorted([
        f"{declined.proposal.reference} is cancelled; €11,000.00 return to the call's envelope.",
        f"{award.proposal.reference}: {award.proposal.reference} is active; only a declined award, or one not "
        "accepted in time, can be cancelled."])
    assert (Award.objects.get(pk=declined.pk).state, Award.objects.get(pk=award.pk).state) == (
        AwardState.CANCELLED, AwardState.ACTIVE)
    change = signed_in.get(reverse("admin:funding_award_change", args=[declined.pk])).content.decode()
    assert "A post abroad." in change and "Declined by the PI." in change


def test_suspend_and_resume_with_a_reason(signed_in, award, staff):
    page = act(signed_in, "award", "suspend_awards", [award])
    assert 'name="reason"' in page.content.decode()
    assert Award.objects.get(pk=award.pk).state == AwardState.ACTIVE

    response = act(signed_in, "award", "suspend_awards", [award], apply="1", reason="Audit of the unit.")
    assert messages_of(response) == [f"{award.proposal.reference} is suspended."]
    assert Award.objects.get(pk=award.pk).state == AwardState.SUSPENDED

    response = act(signed_in, "award", "release_next_tranche", [award], apply="1")
    assert messages_of(response) == [f"{award.proposal.reference}, tranche 1: The award is suspended."]
    response = act(signed_in, "award", "suspend_awards", [award], apply="1", reason="Again.")
    assert messages_of(response) == [
        f"{award.proposal.reference}: An award that is suspended cannot become suspended."]

    response = act(signed_in, "award", "resume_awards", [award], apply="1", reason="Audit done.")
    assert messages_of(response) == [f"{award.proposal.reference} is active again."]
    assert Award.objects.get(pk=award.pk).state == AwardState.ACTIVE
    assert list(AuditEntry.objects.filter(action="award.state").order_by("pk").values_list("to_state", "reason")) == [
        ("suspended", "Audit of the unit."), ("active", "Audit done.")]
    assert tranche(award, 1).state == TrancheState.PLANNED


# Reports ------------------------------------------------------------------------------------------------------


def test_approve_only_the_co_signed_reports(signed_in, staff):
    signed = make_award(user=staff)
    draft = make_award(user=staff)
    set_report_state(signed, ReportPeriod.YEAR_1, ReportState.COSIGNED)
    response = act(signed_in, "report", "approve_reports", [report(signed), report(draft)], apply="1")
    assert sorted(messages_of(response)) == sorted([
        f"{signed.proposal.reference} — Year 1: approved.",
        f"{draft.proposal.reference} — Year 1: Only a co-signed report can be reviewed; this one is draft.",
    ])
    approved = report(signed)
    assert (approved.state, approved.reviewed_by, report(draft).state) == (ReportState.APPROVED, staff, ReportState.DRAFT)


def test_approving_the_final_report_closes_the_award(signed_in, award):
    set_report_state(award, ReportPeriod.FINAL, ReportState.COSIGNED)
    act(signed_in, "report", "approve_reports", [report(award, ReportPeriod.FINAL)], apply="1")
    assert Award.objects.get(pk=award.pk).state == AwardState.CLOSED


def test_ask_for_changes_with_a_comment(signed_in, award):
    set_report_state(award, ReportPeriod.YEAR_1, ReportState.COSIGNED)
    year_1 = report(award)
    page = act(signed_in, "report", "ask_for_changes", [year_1])
    assert "co-signed, waiting for approval" in page.content.decode().lower()
    assert report(award).state == ReportState.COSIGNED
    response = act(signed_in, "report", "ask_for_changes", [year_1], apply="1",
                   reason="Detail the missions of year 1.")
    assert messages_of(response) == [f"{award.proposal.reference} — Year 1: changes asked; the PI is told."]
    changed = report(award)
    assert (changed.state, changed.review_comment) == (ReportState.CHANGES_REQUESTED, "Detail the missions of year 1.")


def test_the_report_page_is_read_only_and_links_to_the_site(signed_in, award):
    year_1 = report(award)
    CosignInvitation.objects.create(report=year_1, email="ana@usp.example.br", created_at=timezone.now(),
                                    expires_at=timezone.now() + dt.timedelta(days=30))
    response = signed_in.get(reverse("admin:funding_report_change", args=[year_1.pk]))
    content = response.content.decode()
    assert response.status_code == 200
    assert reverse("funding:report", kwargs={"pk": award.pk, "period": "year1"}) in content
    assert 'name="_save"' not in content
    assert "ana@usp.example.br" in content
    before = snapshot()
    assert signed_in.post(reverse("admin:funding_report_change", args=[year_1.pk]), {"state": "approved"}).status_code == 403
    assert snapshot() == before


def test_the_invitation_secret_never_appears(signed_in, award):
    invitation = CosignInvitation.objects.create(
        report=report(award), email="ana@usp.example.br", created_at=timezone.now(),
        expires_at=timezone.now() + dt.timedelta(days=30))
    secrets = (invitation.nonce, cosign_token(invitation))
    for url in (changelist("cosigninvitation"), reverse("admin:funding_cosigninvitation_change", args=[invitation.pk]),
                reverse("admin:funding_report_change", args=[invitation.report_id])):
        content = signed_in.get(url).content.decode()
        assert "ana@usp.example.br" in content
        assert [secret in content for secret in secrets] == [False, False], url


@pytest.mark.parametrize("model", ["tranche", "spendingline", "cosigninvitation", "report"])
def test_the_other_records_are_read_only(signed_in, award, model):
    add_spending(award, category="other", amount=Decimal(10))
    CosignInvitation.objects.create(report=report(award), email="ana@usp.example.br", created_at=timezone.now(),
                                    expires_at=timezone.now() + dt.timedelta(days=30))
    obj = {"tranche": Tranche, "spendingline": SpendingLine, "cosigninvitation": CosignInvitation,
           "report": Report}[model].objects.first()
    assert signed_in.get(reverse(f"admin:funding_{model}_change", args=[obj.pk])).status_code == 200
    assert signed_in.get(reverse(f"admin:funding_{model}_add")).status_code == 403
    assert signed_in.post(reverse(f"admin:funding_{model}_delete", args=[obj.pk]), {"post": "yes"}).status_code == 403
    assert type(obj).objects.filter(pk=obj.pk).exists()


# Export ---------------------------------------------------------------------------------------------------------


def export(client, awards):
    response = client.post(changelist("award"), {"action": "export_xlsx", "_selected_action": [a.pk for a in awards]})
    assert response.status_code == 200
    return response


def rows_of(response) -> list[dict]:
    sheet = load_workbook(io.BytesIO(response.content)).active
    header, *rows = list(sheet.iter_rows(values_only=True))
    return [dict(zip(header, row, strict=True)) for row in rows]


def test_the_export_has_one_row_per_award_with_its_totals(signed_in, staff):
    funded = make_award(amount=Decimal("12345.67"), user=staff, title="=HYPERLINK(\"http://evil.example\")")
    manager = StaffFactory(is_staff=False, is_superuser=False, mfa=False)
    funded.unit.managers.add(manager)
    quiet = make_award(amount=Decimal(10000), user=staff)
    tranche_release(tranche_id=tranche(funded, 1).pk, user=staff, now=timezone.now())
    Tranche.objects.filter(pk=tranche(funded, 1).pk).update(received_at=timezone.now(), received_by=manager)
    add_spending(funded, category="mobility", amount=Decimal("1000.50"))
    add_spending(funded, category="mobility", amount=Decimal("499.50"))
    add_spending(funded, category="meetings", amount=Decimal(300))
    set_report_state(funded, ReportPeriod.YEAR_1, ReportState.COSIGNED)

    response = export(signed_in, [funded, quiet])

    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert response["Content-Disposition"].startswith('attachment; filename="awards-')
    assert response["X-Content-Type-Options"] == "nosniff"
    assert {"private", "no-store"} <= {part.strip() for part in response["Cache-Control"].split(",")}
    rows = {row["Reference"]: row for row in rows_of(response)}
    assert sorted(rows) == sorted([funded.proposal.reference, quiet.proposal.reference])
    row = rows[funded.proposal.reference]
    assert row["Title"] == '=HYPERLINK("http://evil.example")'
    assert {key: row[key] for key in (
        "Amount (€)", "Tranche 1 (€)", "Tranche 1 state", "Tranche 2 (€)", "Tranche 2 state", "Released (€)",
        "Received by the unit (€)", "Spent: Mobility (€)", "Spent: Working meetings (€)", "Spent: Field missions (€)",
        "Spent: Other (€)", "Spent in total (€)", "Year-1 report", "Final report", "State", "Unit", "Delegation",
        "Institute", "PI e-mail",
    )} == {
        "Amount (€)": 12345.67, "Tranche 1 (€)": 6172.84, "Tranche 1 state": "Released", "Tranche 2 (€)": 6172.83,
        "Tranche 2 state": "Planned", "Released (€)": 6172.84, "Received by the unit (€)": 6172.84,
        "Spent: Mobility (€)": 1500, "Spent: Working meetings (€)": 300, "Spent: Field missions (€)": 0,
        "Spent: Other (€)": 0, "Spent in total (€)": 1800, "Year-1 report": "Co-signed, waiting for approval",
        "Final report": "Draft", "State": "Active", "Unit": str(funded.unit), "Delegation": funded.unit.delegation.name,
        "Institute": funded.proposal.institute.code, "PI e-mail": funded.proposal.pi.email,
    }
    assert (row["Start"].date(), row["End"].date()) == (funded.start_date, funded.end_date)
    quiet_row = rows[quiet.proposal.reference]
    assert (quiet_row["Released (€)"], quiet_row["Spent in total (€)"], quiet_row["Tranche 1 state"]) == (0, 0, "Planned")


def test_the_export_writes_text_as_text_never_as_a_formula(signed_in, staff):
    award = make_award(user=staff, title="=1+1", acronym="@SUM(A1)")
    response = export(signed_in, [award])
    sheet = load_workbook(io.BytesIO(response.content)).active
    header = [cell.value for cell in sheet[1]]
    row = sheet[2]
    title = row[header.index("Title")]
    assert (title.value, title.data_type) == ("=1+1", "s")


# Query counts at two sizes ----------------------------------------------------------------------------------------


def busy_awards(staff, n: int) -> list[Award]:
    awards = []
    for number in range(n):
        award = make_award(user=staff)
        tranche_release(tranche_id=tranche(award, 1).pk, user=staff, now=timezone.now())
        add_spending(award, category="mobility", amount=Decimal(100 + number))
        if number % 2:
            set_report_state(award, ReportPeriod.YEAR_1, ReportState.COSIGNED)
        awards.append(award)
    return awards


def test_the_award_list_query_count_does_not_grow(signed_in, staff, queries):
    assert queries.at_sizes(lambda n: busy_awards(staff, n), lambda: signed_in.get(changelist("award")),
                            sizes=(1, 15)) == (9, 9)


def test_the_export_query_count_does_not_grow(signed_in, staff, queries):
    awards = []
    assert queries.at_sizes(lambda n: awards.extend(busy_awards(staff, n)), lambda: export(signed_in, awards),
                            sizes=(1, 15)) == (14, 14)
    assert len(rows_of(export(signed_in, awards))) == 15


LIST_QUERIES = {"report": (9, 9), "tranche": (9, 9), "spendingline": (8, 8), "cosigninvitation": (6, 6)}


@pytest.mark.parametrize("model", ["report", "tranche", "spendingline", "cosigninvitation"])
def test_the_other_lists_query_count_does_not_grow(signed_in, staff, model, queries):
    def data(n):
        for award in busy_awards(staff, n):
            CosignInvitation.objects.create(report=report(award), email="ana@usp.example.br",
                                            created_at=timezone.now(), expires_at=timezone.now() + dt.timedelta(days=9))

    assert queries.at_sizes(data, lambda: signed_in.get(changelist(model)), sizes=(1, 15)) == LIST_QUERIES[model]
