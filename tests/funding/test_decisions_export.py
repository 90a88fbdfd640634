"""The decisions page's *Export to Excel*: the page's rows for the whole call, in its order, with what each
proposal's decision says (outcome, amount, the reason to decide anyway, who and when, the mail, the award); typed
values in the reader's language, the same queries at any size, only for those who may read the page."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from funding.domain.decisions import decision_set
from funding.selectors import decisions_page
from iea.formats import XLSX_DATETIME, XLSX_MONEY
from reviews.models import Decision
from tests.backoffice.workbooks import EXPECTED, LONG, cells, headers, people, sheet_rows, statuses
from tests.factories import InstituteFactory, StaffFactory
from tests.reviews.staff_factories import closed_call, ranked_proposal

pytestmark = pytest.mark.django_db


def export_url(call, **params):
    url = reverse("admin:reviews_decisions_export", args=[call.pk])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in params.items()) if params else "")


def decide(proposal, user, outcome, amount=None, reason="One review is enough for this test."):
    return decision_set(proposal_id=proposal.pk, user=user, outcome=outcome, amount=amount, now=timezone.now(),
                        override_reason=reason)


@pytest.fixture
def world(staff):
    call = closed_call(year=2031, total_envelope=Decimal(100000))
    chem, phys = InstituteFactory(code="INC"), InstituteFactory(code="INP")
    made = {}
    for institute, specs in ((chem, [("C2", 2), ("C1", 1), ("C0", None)]), (phys, [("P1", 1), ("P2", 2)])):
        for name, rank in specs:
            made[name] = ranked_proposal(call, institute=institute, rank=rank, reference=f"IEA31-{name}", reviews=1,
                                         recommendation="fund" if rank else "")
    made["C1"].title = '=HYPERLINK("http://evil.example")'
    made["C1"].save(update_fields=["title"])
    decide(made["C1"], staff, "selected", Decimal("12000.50"), reason=LONG)
    decide(made["P2"], staff, "rejected")
    Decision.objects.filter(proposal=made["P2"]).update(notified_at=dt.datetime(2031, 12, 1, 9, 0, tzinfo=dt.UTC))
    ranked_proposal(closed_call(year=2030), institute=chem, rank=1)  # another call
    return {"call": call, "chem": chem, **made}


def test_the_rows_are_the_pages_for_the_whole_call_in_its_order(signed_in, world, staff):
    call = world["call"]
    response = signed_in.get(export_url(call))
    assert response["Content-Disposition"] == (
        f'attachment; filename="decisions-2031-{timezone.localdate():%Y-%m-%d}.xlsx"')
    rows = sheet_rows(response, "Decisions")
    page = decisions_page(call=call, per_page=2)
    assert [row["Reference"] for row in rows] == [r.proposal.reference for r in decisions_page(call=call).rows] == [
        "IEA31-C1", "IEA31-C2", "IEA31-C0", "IEA31-P1", "IEA31-P2"]
    assert page.page.paginator.num_pages == 3  # the page shows them three times two; the workbook all at once
    by_ref = {row["Reference"]: row for row in rows}
    selected, undecided, rejected = by_ref["IEA31-C1"], by_ref["IEA31-C0"], by_ref["IEA31-P2"]
    expected_mean = next(r for r in decisions_page(call=call).rows if r.proposal.reference == "IEA31-C1").mean_score
    assert {key: selected[key] for key in (
        "Title", "Institute", "Rank", "Panel's recommendation", "Proposed amount (€)", "Reviews", "Outcome",
        "Amount (€)", "Reason to decide anyway", "Decided by", "Mail sent at", "Mean score")} == {
        "Title": '=HYPERLINK("http://evil.example")', "Institute": "INC", "Rank": 1,
        "Panel's recommendation": "Fund", "Proposed amount (€)": 12000, "Reviews": 1, "Outcome": "Selected",
        "Amount (€)": 12000.5, "Reason to decide anyway": LONG, "Decided by": staff.get_full_name(),
        "Mail sent at": None, "Mean score": float(round(expected_mean, 2)),
    }
    assert (undecided["Rank"], undecided["Panel's recommendation"], undecided["Outcome"], undecided["Amount (€)"],
            undecided["Decided at"], undecided["Award"]) == (None, None, None, None, None, None)
    assert (rejected["Outcome"], rejected["Mail sent at"]) == ("Rejected", dt.datetime(2031, 12, 1, 10, 0))
    typed = {row["Reference"].value: row for row in cells(response)}["IEA31-C1"]
    assert typed["Amount (€)"].number_format == typed["Proposed amount (€)"].number_format == XLSX_MONEY
    assert typed["Decided at"].number_format == XLSX_DATETIME
    assert typed["Title"].data_type == "s"


def test_one_institute_only(signed_in, world):
    rows = sheet_rows(signed_in.get(export_url(world["call"], institute=world["chem"].pk)))
    assert [row["Reference"] for row in rows] == ["IEA31-C1", "IEA31-C2", "IEA31-C0"]


def test_the_decisions_page_links_its_export(signed_in, world):
    html = signed_in.get(reverse("admin:reviews_decisions", args=[world["call"].pk])).content.decode()
    assert f'href="{export_url(world["call"])}"' in html


def test_the_headers_are_in_the_readers_language(signed_in, world):
    signed_in.defaults["HTTP_ACCEPT_LANGUAGE"] = "fr"
    response = signed_in.get(export_url(world["call"]))
    assert headers(response, "Décisions")[:3] == ["Référence", "Acronyme", "Titre"]
    assert {row["Référence"]: row for row in sheet_rows(response)}["IEA31-P2"]["Résultat"] == "Non retenue"


def test_the_export_costs_the_same_queries_for_few_and_many_proposals(signed_in, staff, queries):
    call = closed_call(year=2031, total_envelope=Decimal(10**7))
    institutes = [InstituteFactory() for _ in range(3)]
    ranks = iter(range(1, 100))

    def grow(size):
        for n in range(size):
            proposal = ranked_proposal(call, institute=institutes[n % 3], rank=next(ranks), reviews=1)
            decide(proposal, StaffFactory() if n % 2 else staff, "selected", Decimal(12000))

    assert queries.at_sizes(grow, lambda: signed_in.get(export_url(call)), sizes=(3, 9)) == (13, 13)


def test_who_may_download(client, world):
    assert statuses(client, export_url(world["call"]), people()) == EXPECTED
