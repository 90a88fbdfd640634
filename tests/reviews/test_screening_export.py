"""The screening of a call to Excel, from a link on the screening page: every proposal ever submitted to the call,
the automatic check as the page shows it, who screened it, when and why; typed values in the reader's language,
the same queries at any size, only for those who may read the page."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from iea.formats import XLSX_DATETIME
from proposals.models import ProposalState
from reviews.domain.screening import proposal_screen, screening_rows
from tests.backoffice.workbooks import EXPECTED, LONG, cells, headers, people, sheet_rows, statuses
from tests.factories import ProposalFactory, StaffFactory

from .staff_factories import closed_call, set_state, submitted_proposal

pytestmark = pytest.mark.django_db


def export_url(call):
    return reverse("admin:reviews_screening_export", args=[call.pk])


@pytest.fixture
def world(staff):
    call = closed_call(year=2031)
    at = dt.datetime(2031, 10, 2, 8, 30, tzinfo=dt.UTC)
    clean = submitted_proposal(call, title='=HYPERLINK("http://evil.example")')
    no_letter = submitted_proposal(call, letter=False)
    set_state(no_letter, ProposalState.SUBMITTED, has_unsubmitted_changes=True)
    refused = submitted_proposal(call)
    proposal_screen(proposal_id=refused.pk, user=StaffFactory(full_name="Sam Screener"), eligible=False,
                    reason=LONG, now=at)
    passed = submitted_proposal(call)
    proposal_screen(proposal_id=passed.pk, user=staff, eligible=True, reason="", now=at)
    set_state(passed, ProposalState.IN_REVIEW)  # screened, then went on
    withdrawn = submitted_proposal(call)
    set_state(withdrawn, ProposalState.WITHDRAWN)
    submitted_proposal(closed_call(year=2030))  # another call
    ProposalFactory(call=call)  # a draft never submitted
    return {"call": call, "clean": clean, "no_letter": no_letter, "refused": refused, "passed": passed,
            "withdrawn": withdrawn, "at": at}


def test_one_row_per_submitted_proposal_with_the_pages_check_and_the_screening(signed_in, world, staff):
    call = world["call"]
    response = signed_in.get(export_url(call))
    assert response["Content-Disposition"] == (
        f'attachment; filename="screening-2031-{timezone.localdate():%Y-%m-%d}.xlsx"')
    rows = {row["Reference"]: row for row in sheet_rows(response, "Screening")}
    assert sorted(rows) == sorted(p.reference for key, p in world.items()
                                  if key in ("clean", "no_letter", "refused", "passed", "withdrawn"))
    # The page's automatic check, row for row.
    for page_row in screening_rows(call=call):
        found = rows[page_row.proposal.reference]["Automatic check"]
        if page_row.eligible:
            assert found == "Eligible"
        else:
            assert [part.split(":")[0] for part in found.split("; ")] == [check.label for check in page_row.failing]
    clean, refused, passed = rows[world["clean"].reference], rows[world["refused"].reference], rows[world["passed"].reference]
    assert clean["Title"] == '=HYPERLINK("http://evil.example")'
    assert (clean["Outcome"], clean["Screened by"], clean["Screened at"], clean["Reason"], clean["Changed since the last submission"]) == (
        "To screen", None, None, None, "no")
    assert rows[world["no_letter"].reference]["Changed since the last submission"] == "yes"
    assert (refused["Outcome"], refused["Screened by"], refused["Reason"]) == ("Ineligible", "Sam Screener", LONG)
    assert refused["Screened at"] == dt.datetime(2031, 10, 2, 10, 30)  # Paris wall clock
    assert (passed["Outcome"], passed["Screened by"]) == ("Eligible", staff.get_full_name())
    assert rows[world["withdrawn"].reference]["Outcome"] == "Withdrawn"
    typed = {row["Reference"].value: row for row in cells(response)}[world["refused"].reference]
    assert typed["Screened at"].number_format == typed["Last submitted"].number_format == XLSX_DATETIME
    assert typed["Title"].data_type == "s"


def test_the_screening_page_links_its_export(signed_in, world):
    html = signed_in.get(reverse("admin:reviews_screening", args=[world["call"].pk])).content.decode()
    assert f'href="{export_url(world["call"])}"' in html


def test_the_headers_are_in_the_readers_language(signed_in, world):
    signed_in.defaults["HTTP_ACCEPT_LANGUAGE"] = "fr"
    response = signed_in.get(export_url(world["call"]))
    assert headers(response)[:3] == ["Référence", "Acronyme", "Titre"]
    assert "Vérification automatique" in headers(response)
    rows = {row["Référence"]: row for row in sheet_rows(response)}
    assert rows[world["refused"].reference]["Résultat"] == "Irrecevable"


def test_the_export_costs_the_same_queries_for_few_and_many_proposals(signed_in, queries, staff):
    call = closed_call(year=2031)

    def grow(size):
        for _n in range(size):
            proposal = submitted_proposal(call)
            proposal_screen(proposal_id=proposal.pk, user=staff, eligible=True, reason="", now=timezone.now())
            submitted_proposal(call)

    assert queries.at_sizes(grow, lambda: signed_in.get(export_url(call))) == (12, 12)


def test_who_may_download(client, world):
    assert statuses(client, export_url(world["call"]), people()) == EXPECTED
