"""The confirmation pages of the batch actions on awards and reports (``iea.admin_confirm``): the page lists
what will change on each selected object (or why it is refused) with the totals, nothing is written before the
person confirms, confirming applies exactly the rows that were not refused (each with its audit entry), the
page's query count does not grow with the selection, and only staff with the permission reach it."""

import re
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from funding.domain.awards import tranche_release
from funding.models import Award, AwardState, Report, ReportPeriod, ReportState, Tranche, TrancheState
from iea.audit.models import AuditEntry
from tests.factories import StaffFactory, UserFactory, activate_totp
from tests.reviews.factories import PanelFactory, ReviewerFactory

from .admin_factories import make_award, report, set_report_state, tranche

pytestmark = pytest.mark.django_db

GATE = "Tranche 2 is released only after the year 1 reports are approved; they are: draft."


def post(client, model: str, action: str, objects, **data):
    return client.post(reverse(f"admin:funding_{model}_changelist"),
                       {"action": action, "_selected_action": [o.pk for o in objects], **data}, follow=True)


def rows(response) -> list[list[str]]:
    """The confirmation table as text: [item, now, after-or-refused] per row."""
    table = response.content.decode().split('id="action-objects"')[1].split("</table>")[0].split("<tbody>")[1]
    return [[re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", cell)).strip()
             for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]
            for row in re.findall(r"<tr[^>]*>(.*?)</tr>", table, re.S)]


def totals(response) -> list[list[str]]:
    table = response.content.decode().split('id="action-totals"')[1].split("</table>")[0]
    return [[re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", cell)).strip() for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]
            for row in re.findall(r"<tr[^>]*>(.*?)</tr>", table, re.S)]


def state_of_funding():
    return (list(Tranche.objects.order_by("pk").values_list("pk", "state", "decided_at")),
            list(Report.objects.order_by("pk").values_list("pk", "state", "reviewed_at")),
            list(Award.objects.order_by("pk").values_list("pk", "state")), AuditEntry.objects.count())


# Release the next tranche -------------------------------------------------------------------------------------


@pytest.fixture
def three_awards(staff):
    """One ready to release tranche 1 (€6,000), one waiting for its year 1 report (tranche 2), one with
    nothing left to release."""
    ready = make_award(amount=Decimal(12000), user=staff)
    gated = make_award(amount=Decimal(20000), user=staff)
    tranche_release(tranche_id=tranche(gated, 1).pk, user=staff, now=timezone.now())
    done = make_award(amount=Decimal(8000), user=staff)
    Tranche.objects.filter(award=done).update(state=TrancheState.RELEASED, decided_at=timezone.now())
    return ready, gated, done


def test_the_release_page_lists_each_tranche_and_the_total_and_writes_nothing(signed_in, three_awards):
    ready, gated, done = three_awards
    before = state_of_funding()
    page = post(signed_in, "award", "release_next_tranche", [ready, gated, done])
    assert page.templates[0].name == "admin/iea_action_confirm.html"
    expected = sorted([
        [f"{ready.proposal.reference}, tranche 1", "planned, €6,000.00", "released, €6,000.00"],
        [f"{gated.proposal.reference}, tranche 2", "planned, €10,000.00", f"refused: {GATE}"],
        [done.proposal.reference, "—", "refused: no planned tranche is left."],
    ])
    assert rows(page) == expected
    assert totals(page) == [["Released by this action", "€6,000.00"]]
    assert "2 items are refused" in page.content.decode()
    assert state_of_funding() == before


def test_confirming_releases_exactly_the_tranches_not_refused(signed_in, staff, three_awards):
    ready, gated, done = three_awards
    before_gated = list(Tranche.objects.filter(award__in=[gated, done]).order_by("pk").values_list("state", "decided_at"))
    audit_before = AuditEntry.objects.filter(action="tranche.release").count()
    response = post(signed_in, "award", "release_next_tranche", [ready, gated, done], apply="1")
    assert response.status_code == 200
    assert list(Tranche.objects.filter(award=ready).order_by("number").values_list("state", flat=True)) == [
        TrancheState.RELEASED, TrancheState.PLANNED]
    assert list(Tranche.objects.filter(award__in=[gated, done]).order_by("pk").values_list(
        "state", "decided_at")) == before_gated
    released = AuditEntry.objects.filter(action="tranche.release").order_by("pk")
    assert released.count() == audit_before + 1
    assert (released.last().object_id, released.last().actor_id) == (str(tranche(ready, 1).pk), staff.pk)


def test_the_release_page_query_count_does_not_grow(signed_in, staff, queries):
    awards = []

    def grow(n):
        for _ in range(n):
            award = make_award(user=staff)
            tranche_release(tranche_id=tranche(award, 1).pk, user=staff, now=timezone.now())
            awards.append(award)

    assert queries.at_sizes(grow, lambda: post(signed_in, "award", "release_next_tranche", awards)) == (14, 14)


# Approve co-signed reports ------------------------------------------------------------------------------------


@pytest.fixture
def two_reports(staff):
    signed, draft = make_award(user=staff), make_award(user=staff)
    set_report_state(signed, ReportPeriod.YEAR_1, ReportState.COSIGNED)
    return report(signed), report(draft)


def test_the_approval_page_lists_each_report_and_writes_nothing(signed_in, two_reports):
    signed, draft = two_reports
    before = state_of_funding()
    page = post(signed_in, "report", "approve_reports", [signed, draft])
    assert rows(page) == sorted([
        [str(signed), "Co-signed, waiting for approval", "Approved"],
        [str(draft), "Draft", "refused: only a co-signed report is approved; this one is draft"],
    ])
    assert state_of_funding() == before


def test_the_final_report_says_it_closes_the_award(signed_in, staff):
    award = make_award(user=staff)
    final = set_report_state(award, ReportPeriod.FINAL, ReportState.COSIGNED)
    page = post(signed_in, "report", "approve_reports", [final])
    assert rows(page) == [[str(final), "Co-signed, waiting for approval", "approved; the award is closed"]]
    assert Award.objects.get(pk=award.pk).state == AwardState.ACTIVE


def test_confirming_approves_exactly_the_co_signed_reports(signed_in, staff, two_reports):
    signed, draft = two_reports
    post(signed_in, "report", "approve_reports", [signed, draft], apply="1")
    assert (Report.objects.get(pk=signed.pk).state, Report.objects.get(pk=draft.pk).state) == (
        ReportState.APPROVED, ReportState.DRAFT)
    assert list(AuditEntry.objects.filter(action="report.approve").values_list("object_id", "actor_id")) == [
        (str(signed.pk), staff.pk)]


def test_the_approval_page_query_count_does_not_grow(signed_in, staff, queries):
    reports = []

    def grow(n):
        for number in range(n):
            award = make_award(user=staff)
            reports.append(set_report_state(award, ReportPeriod.YEAR_1,
                                            ReportState.COSIGNED if number % 2 else ReportState.SUBMITTED))

    assert queries.at_sizes(grow, lambda: post(signed_in, "report", "approve_reports", reports)) == (12, 12)


# Who may reach the pages --------------------------------------------------------------------------------------


def people(award) -> dict:
    reviewer = ReviewerFactory(institute=award.proposal.institute).user
    officer = UserFactory()
    activate_totp(officer)
    PanelFactory(call=award.proposal.call, institute=award.proposal.institute).officers.add(officer)
    viewer = StaffFactory(is_superuser=False)
    viewer.user_permissions.add(*Permission.objects.filter(codename__in=["view_award", "view_report"]))
    return {"anonymous": None, "pi": award.proposal.pi, "reviewer": reviewer, "officer": officer,
            "staff without the permission": viewer}


@pytest.mark.parametrize(("model", "action"), [("award", "release_next_tranche"), ("report", "approve_reports")])
def test_only_staff_with_the_permission_reach_the_confirmation(client, staff, model, action):
    award = make_award(user=staff)
    set_report_state(award, ReportPeriod.YEAR_1, ReportState.COSIGNED)
    objects = [award] if model == "award" else [report(award)]
    before = state_of_funding()
    for who, user in people(award).items():
        client.logout()
        if user is not None:
            client.force_login(user)
        for data in ({}, {"apply": "1"}):
            response = client.post(reverse(f"admin:funding_{model}_changelist"),
                                   {"action": action, "_selected_action": [o.pk for o in objects], **data})
            if who == "staff without the permission":
                # the action is not offered: back to the list with "no action selected"
                assert response.status_code == 302 if model == "award" else 200, who
                assert 'id="action-objects"' not in (response.content.decode() if response.status_code == 200 else "")
            else:
                assert (response.status_code, response["Location"].split("?")[0]) == (302, "/admin/login/"), who
    assert state_of_funding() == before
    client.force_login(staff)
    assert client.post(reverse(f"admin:funding_{model}_changelist"),
                       {"action": action, "_selected_action": [o.pk for o in objects]}).status_code == 200


# The reason pages list the change too ---------------------------------------------------------------------------


def test_the_reason_pages_say_now_after_or_refused(signed_in, staff):
    active, suspended = make_award(user=staff), make_award(user=staff, amount=Decimal(11000))
    Award.objects.filter(pk=suspended.pk).update(state=AwardState.SUSPENDED)
    before = state_of_funding()
    page = post(signed_in, "award", "suspend_awards", [active, suspended])
    assert rows(page) == sorted([
        [str(active), "Active", "Suspended"],
        [str(suspended), "Suspended", "refused: An award that is suspended cannot become suspended."],
    ])
    page = post(signed_in, "award", "cancel_awards", [active])
    assert rows(page) == [[str(active), "Active",
                           "refused: only a declined award, or one not accepted in time, can be cancelled"]]
    page = post(signed_in, "award", "withhold_next_tranche", [active])
    assert rows(page) == [[f"{active} — tranche 1 (€6,000.00)", "Planned", "Withheld"]]
    cosigned = set_report_state(active, ReportPeriod.YEAR_1, ReportState.COSIGNED)
    page = post(signed_in, "report", "ask_for_changes", [cosigned, report(suspended)])
    assert rows(page) == sorted([
        [str(cosigned), "Co-signed, waiting for approval", "Changes requested"],
        [str(report(suspended)), "Draft", "refused: only a co-signed report goes back to the PI; this one is draft"],
    ])
    after = state_of_funding()
    assert (after[0], after[2], after[3]) == (before[0], before[2], before[3])  # the report was co-signed by hand


def test_the_confirmation_in_french(client, staff, three_awards):
    from django.utils import translation

    from iea import formats

    ready, gated, done = three_awards
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "fr"
    client.force_login(staff)
    page = post(client, "award", "release_next_tranche", [ready, gated, done])
    with translation.override("fr"):
        money = formats.money(Decimal(6000))
    assert "\u202f" in money or "\xa0" in money  # French spacing: rows() folds it into plain spaces
    six = re.sub(r"\s+", " ", money)
    content = page.content.decode()
    assert f"<td>{money}</td>" in content
    assert "Ce qui va changer" in content and "Maintenant" in content and "Après" in content
    assert rows(page)[0] == [f"{ready.proposal.reference}, tranche 1", f"prévue, {six}", f"versée, {six}"]
    assert rows(page)[2] == [done.proposal.reference, "—", "refusé : il ne reste aucune tranche prévue."]
    assert totals(page) == [["Versé par cette action", six]]
    assert "2 éléments sont refusés" in content
