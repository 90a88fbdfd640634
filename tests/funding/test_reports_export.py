"""The reports list's *Export to Excel*: exactly the filtered list's reports, with their dates, state and the
spending they declare, and a sheet of the spending the units recorded on those awards; typed values in the
reader's language, the same queries at any size, only for those who may view the list."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from funding.domain.reports import report_due
from funding.models import Report, ReportPeriod, ReportSpending, ReportState, SpendingLine
from iea.formats import XLSX_DATE, XLSX_DATETIME, XLSX_MONEY
from tests.backoffice.workbooks import EXPECTED, cells, headers, people, sheet_rows, statuses
from tests.factories import CallFactory, InstituteFactory, UnitFactory

from .admin_factories import add_spending, make_award, report, set_report_state
from .factories import award_factory, cast, make_panel_officer

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:funding_report_changelist"
EXPORT = "admin:funding_report_export"
DESCRIPTION = ("Mission à São Paulo, " * 20)[:300]  # the longest description a line holds


@pytest.fixture
def world(staff):
    call = CallFactory(year=2031)
    approved = make_award(user=staff, call=call, title="=1+1")
    year_1 = set_report_state(approved, ReportPeriod.YEAR_1, ReportState.COSIGNED)
    Report.objects.filter(pk=year_1.pk).update(
        state=ReportState.APPROVED, reviewed_at=dt.datetime(2032, 3, 2, 8, 0, tzinfo=dt.UTC), reviewed_by=staff,
        cofunding_received=Decimal("2500.25"), cofunding_currency="BRL")
    ReportSpending.objects.update_or_create(report=year_1, category="mobility", defaults={"amount": Decimal("1500.50")})
    ReportSpending.objects.update_or_create(report=year_1, category="meetings", defaults={"amount": Decimal(300)})
    add_spending(approved, category="mobility", amount=Decimal("1500.50"), user=staff, description=DESCRIPTION)
    add_spending(approved, category="meetings", amount=Decimal(300), user=staff, description='=HYPERLINK("x")')
    quiet = make_award(user=staff, call=call)
    elsewhere = make_award(user=staff, call=CallFactory(year=2030))
    add_spending(elsewhere, category="other", amount=Decimal(10))
    return {"call": call, "approved": approved, "quiet": quiet, "elsewhere": elsewhere, "year_1": report(approved)}


def export(client, **params):
    return client.get(reverse(EXPORT), params)


def test_the_workbook_holds_exactly_the_rows_of_the_filtered_list(signed_in, world):
    for params in ({}, {"award__proposal__call__id__exact": world["call"].pk}, {"state__exact": "approved"},
                   {"period__exact": "final"}, {"q": world["quiet"].proposal.reference}):
        listed = signed_in.get(reverse(CHANGELIST), params).context["cl"]
        rows = sheet_rows(export(signed_in, **params), "Reports")
        assert len(rows) == listed.result_count, params
        assert sorted((r["Award"], r["Period"]) for r in rows) == sorted(
            (report.award.proposal.reference, report.get_period_display()) for report in listed.result_list), params
        # The spending of the listed reports' awards, and of no other.
        awards = {report.award_id for report in listed.result_list}
        assert len(sheet_rows(export(signed_in, **params), "Spending")) == SpendingLine.objects.filter(
            award__in=awards).count(), params
    html = signed_in.get(reverse(CHANGELIST), {"state__exact": "approved"}).content.decode()
    assert f'href="{reverse(EXPORT)}?state__exact=approved"' in html and "Export to Excel (1 row)" in html


def test_each_report_with_its_dates_state_and_spending(signed_in, world, staff):
    response = export(signed_in, award__proposal__call__id__exact=world["call"].pk)
    assert response["Content-Disposition"] == f'attachment; filename="reports-2031-{timezone.localdate():%Y-%m-%d}.xlsx"'
    approved = world["approved"]
    rows = {(row["Award"], row["Period"]): row for row in sheet_rows(response, "Reports")}
    row = rows[(approved.proposal.reference, "Year 1")]
    assert {key: row[key] for key in (
        "Acronym", "Unit", "Delegation", "State", "Co-signed by", "Approved at", "Reviewed by",
        "Spent: Mobility (€)", "Spent: Working meetings (€)", "Spent: Field missions (€)", "Spent in total (€)",
        "Co-funding received", "Currency")} == {
        "Acronym": approved.proposal.acronym, "Unit": approved.unit.code, "Delegation": approved.unit.delegation.name,
        "State": "Approved", "Co-signed by": "Ana Souza <ana@usp.example.br>", "Approved at": dt.datetime(2032, 3, 2, 9, 0),
        "Reviewed by": staff.get_full_name(), "Spent: Mobility (€)": 1500.5, "Spent: Working meetings (€)": 300,
        "Spent: Field missions (€)": 0, "Spent in total (€)": 1800.5, "Co-funding received": 2500.25, "Currency": "BRL",
    }
    assert row["Due"].date() == report_due(approved, ReportPeriod.YEAR_1)
    final = rows[(world["quiet"].proposal.reference, "Final")]
    assert (final["State"], final["Submitted at"], final["Approved at"], final["Reviewed by"], final["Co-funding received"]) == (
        "Draft", None, None, None, None)
    typed = {(r["Award"].value, r["Period"].value): r for r in cells(response, "Reports")}[
        (approved.proposal.reference, "Year 1")]
    assert typed["Due"].number_format == XLSX_DATE
    assert typed["Co-signed at"].number_format == XLSX_DATETIME
    assert typed["Spent in total (€)"].number_format == XLSX_MONEY
    lines = [line for line in sheet_rows(response, "Spending") if line["Award"] == approved.proposal.reference]
    assert [(line["Category"], line["Amount (€)"], line["Description"], line["Recorded by"]) for line in lines] == [
        ("Mobility", 1500.5, DESCRIPTION, staff.get_full_name()), ("Working meetings", 300, '=HYPERLINK("x")', staff.get_full_name())]
    spending = cells(response, "Spending")
    assert (spending[0]["Date"].number_format, spending[0]["Amount (€)"].number_format) == (XLSX_DATE, XLSX_MONEY)
    assert [line["Description"].data_type for line in spending] == ["s"] * len(spending)  # never a formula


def test_the_headers_are_in_the_readers_language(signed_in, world):
    signed_in.defaults["HTTP_ACCEPT_LANGUAGE"] = "fr"
    response = export(signed_in, state__exact="approved")
    assert headers(response, "Rapports")[:2] == ["Financement", "Acronyme"]
    assert headers(response, "Dépenses")[0] == "Financement"
    [row] = sheet_rows(response, "Rapports")
    assert row["Statut"] == "Approuvé"


def test_the_export_costs_the_same_queries_for_few_and_many_reports(signed_in, staff, queries):
    call = CallFactory(year=2031)

    def grow(size):
        for _n in range(size):
            award = make_award(user=staff, call=call)
            set_report_state(award, ReportPeriod.YEAR_1, ReportState.COSIGNED)
            add_spending(award, category="mobility", amount=Decimal(100), user=staff)

    assert queries.at_sizes(grow, lambda: export(signed_in, award__proposal__call__id__exact=call.pk)) == (12, 12)


def test_who_may_download(client, world):
    assert statuses(client, reverse(EXPORT), people()) == EXPECTED


# The officers' export, from "Reports to review" ------------------------------------------------------------------


def test_an_officer_exports_the_reports_of_the_awards_they_review_and_no_other(client, staff):
    ours, theirs = award_factory(staff=staff), award_factory(staff=staff)
    set_report_state(ours, ReportPeriod.YEAR_1, ReportState.COSIGNED)
    who = cast(ours, staff=staff)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    url = reverse("funding:reports_export")
    client.force_login(who["officer"])
    page = client.get(reverse("funding:pending_reports")).content.decode()
    assert f'href="{url}"' in page
    rows = sheet_rows(client.get(url), "Reports")
    assert sorted((row["Award"], row["Period"]) for row in rows) == [
        (ours.proposal.reference, "Final"), (ours.proposal.reference, "Year 1")]
    client.force_login(who["staff"])
    assert {row["Award"] for row in sheet_rows(client.get(url), "Reports")} >= {
        ours.proposal.reference, theirs.proposal.reference}
    # Everyone else: nothing to download, no link.
    found = {}
    for role in ("pi", "other_pi", "reviewer", "unit_manager"):
        client.force_login(who[role])
        response = client.get(url)
        found[role] = response.status_code
        assert "Content-Disposition" not in response
        assert f'href="{url}"' not in client.get(reverse("funding:pending_reports")).content.decode()
    assert found == {"pi": 404, "other_pi": 404, "reviewer": 404, "unit_manager": 404}
    client.logout()
    assert client.get(url)["Location"].startswith(reverse("account_login"))


def test_the_officers_export_costs_the_same_queries_at_any_size(client, staff, queries):
    call, institute = CallFactory(year=2031), InstituteFactory()
    officer = make_panel_officer(award_factory(staff=staff, call=call, unit=UnitFactory(main_institute=institute)))
    client.force_login(officer)

    def grow(size):
        for _n in range(size):
            award = award_factory(staff=staff, call=call, unit=UnitFactory(main_institute=institute))
            add_spending(award, category="mobility", amount=Decimal(100), user=staff)

    assert queries.at_sizes(grow, lambda: client.get(reverse("funding:reports_export"))) == (8, 8)
