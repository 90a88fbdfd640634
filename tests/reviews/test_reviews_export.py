"""The reviews list's *Export to Excel*: the filtered list's reviews, a column per criterion, the weighted total as
the panel computes it, the reviewers named only for the directorate and the panel's officers ("Reviewer 1, 2…"
and no confidential comment for anyone else), a sheet of the conflicts; typed values in the reader's language,
the same queries at any size, only for those who may view the list."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from calls.models import Criterion
from iea.formats import PARIS, XLSX_DATETIME, XLSX_NUMBER
from reviews.exports import review_sheets
from reviews.models import Assignment, Conflict, Review, ReviewState
from reviews.rules import can_see_reviewer_identity
from tests.backoffice.workbooks import EXPECTED, LONG, cells, headers, people, sheet_rows, statuses
from tests.factories import InstituteFactory, StaffFactory, UserFactory
from tests.reviews.factories import PanelFactory

from .staff_factories import closed_call, make_review, make_reviewer, panel_for, submitted_proposal

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:reviews_review_changelist"
EXPORT = "admin:reviews_review_export"


@pytest.fixture
def world(staff):
    insu = InstituteFactory(code="INSU")
    call = closed_call(year=2031)
    first = submitted_proposal(call, evaluating_institute=insu, title="=1+1")
    second = submitted_proposal(call, evaluating_institute=insu)
    ada = make_reviewer(insu, name="Ada Lovelace", email="ada@example.org", institution="Analytical Society")
    bob = make_reviewer(insu, name="Bob Reviewer", email="bob@example.org")
    late = make_review(first, ada, scores=[4, 3.5, 4, 3, 5, 4], comment_for_pi="=1+1", confidential=LONG)
    Review.objects.filter(pk=late.pk).update(recommendation="fund")
    Assignment.objects.filter(pk=late.assignment_id).update(due_at=late.submitted_at - dt.timedelta(days=3, hours=2))
    draft = make_review(first, bob, scores=[2, None], state=ReviewState.DRAFT)
    other = make_review(second, bob, scores=[1, 1, 1, 1, 1, 1])
    Conflict.objects.create(proposal=first, reviewer=make_reviewer(insu, name="Cy Conflicted", email="cy@example.org"),
                            source="declared", cause="is_partner", detail="We wrote a paper together.",
                            created_at=dt.datetime(2031, 10, 1, 22, 30, tzinfo=dt.UTC), created_by=staff)
    elsewhere = make_review(submitted_proposal(closed_call(year=2030)), make_reviewer(
        InstituteFactory(), name="Dee", email="dee@example.org"), scores=[3] * 6)
    return {"call": call, "insu": insu, "first": first, "second": second, "late": late, "draft": draft,
            "other": other, "elsewhere": elsewhere, "panel": panel_for(call, insu)}


def export(client, **params):
    return client.get(reverse(EXPORT), params)


def test_the_workbook_holds_exactly_the_rows_of_the_filtered_list(signed_in, world):
    for params in ({}, {"proposal__call__id__exact": world["call"].pk}, {"state__exact": "draft"},
                   {"institute": world["insu"].pk}, {"q": "bob@example.org"}, {"recommendation__exact": "fund"}):
        listed = signed_in.get(reverse(CHANGELIST), params).context["cl"]
        rows = sheet_rows(export(signed_in, **params), "Reviews")
        assert len(rows) == listed.result_count, params
        assert sorted(r["Reviewer's e-mail"] for r in rows) == sorted(
            review.reviewer.user.email for review in listed.result_list), params
    html = signed_in.get(reverse(CHANGELIST), {"state__exact": "submitted"}).content.decode()
    assert f'href="{reverse(EXPORT)}?state__exact=submitted"' in html and "Export to Excel (3 rows)" in html


def test_a_row_per_review_with_its_scores_dates_and_comments(signed_in, world, staff):
    response = export(signed_in, proposal__call__id__exact=world["call"].pk)
    assert response["Content-Disposition"] == f'attachment; filename="reviews-2031-{timezone.localdate():%Y-%m-%d}.xlsx"'
    criteria = list(Criterion.objects.filter(call=world["call"]).order_by("position"))
    columns = [f"{criterion.position}. {criterion.label}" for criterion in criteria]
    assert headers(response)[13:19] == columns
    rows = {(row["Reference"], row["Reviewer"]): row for row in sheet_rows(response, "Reviews")}
    late = rows[(world["first"].reference, "Ada Lovelace")]
    scores = [Decimal("4"), Decimal("3.5"), Decimal("4"), Decimal("3"), Decimal("5"), Decimal("4")]
    expected_total = sum(c.weight * s for c, s in zip(criteria, scores, strict=True)) / sum(c.weight for c in criteria)
    assert {key: late[key] for key in ("Institute", "Reviewer's e-mail", "Institution", "External to CNRS",
                                       "Assignment", "Review", "Days late", "Recommendation", "Comment for the PI",
                                       "Confidential comment", "Weighted total")} == {
        "Institute": "INSU", "Reviewer's e-mail": "ada@example.org", "Institution": "Analytical Society",
        "External to CNRS": "no", "Assignment": "Accepted", "Review": "Submitted", "Days late": 3,
        "Recommendation": "Fund", "Comment for the PI": "=1+1", "Confidential comment": LONG,
        "Weighted total": float(round(expected_total, 2)),
    }
    assert [late[column] for column in columns] == [float(score) for score in scores]
    draft = rows[(world["first"].reference, "Bob Reviewer")]
    assert [draft[column] for column in columns] == [2, None, None, None, None, None]
    assert (draft["Submitted at"], draft["Recommendation"], draft["Confidential comment"], draft["Weighted total"]) == (
        None, None, None, 2)
    typed = {(row["Reference"].value, row["Reviewer"].value): row for row in cells(response)}[
        (world["first"].reference, "Ada Lovelace")]
    assert typed["Due"].number_format == typed["Submitted at"].number_format == XLSX_DATETIME
    assert typed[columns[1]].number_format == XLSX_NUMBER
    assert (typed["Comment for the PI"].value, typed["Comment for the PI"].data_type) == ("=1+1", "s")  # not a formula
    paris = timezone.localtime(world["late"].submitted_at, PARIS).replace(tzinfo=None)  # the Paris wall clock
    assert abs(typed["Submitted at"].value - paris) < dt.timedelta(milliseconds=1)
    assert sheet_rows(response, "Conflicts") == [{
        "Reference": world["first"].reference, "Reviewer": "Cy Conflicted", "Reviewer's e-mail": "cy@example.org",
        "Source": "Declared by the reviewer", "Cause": "The reviewer is the foreign partner",
        "Detail": "We wrote a paper together.",
        "Recorded at": dt.datetime(2031, 10, 2, 0, 30),  # the Paris wall clock (summer time)
        "Recorded by": staff.get_full_name(),
    }]


def test_reviewers_are_named_for_the_directorate_and_the_panels_officers_only(world):
    officer, stranger, reviewer = UserFactory(), UserFactory(), world["late"].reviewer.user
    world["panel"].officers.add(officer)
    PanelFactory(call=world["call"]).officers.add(stranger)
    assert [can_see_reviewer_identity(user, world["panel"]) for user in (StaffFactory(), officer, stranger, reviewer)] == [
        True, True, False, False]

    def reviewers(user):
        [sheet, conflicts] = review_sheets(Review.objects.filter(proposal__call=world["call"]), user=user)
        rows = list(sheet.rows)
        return ({(row[0], row[2], row[3], row[-1]) for row in rows}, [row[1:3] for row in conflicts.rows])

    named, _ = reviewers(officer)
    assert ("Ada Lovelace" in {row[1] for row in named}) and LONG in {row[3] for row in named}
    hidden, conflicts = reviewers(stranger)
    first, second = world["first"].reference, world["second"].reference
    # In the order they were assigned to the proposal; the same reviewer may be 2 on one proposal and 1 on another.
    assert hidden == {(first, "Reviewer 1", "", ""), (first, "Reviewer 2", "", ""), (second, "Reviewer 1", "", "")}
    assert conflicts == [["—", ""]]


def test_the_headers_are_in_the_readers_language(signed_in, world):
    signed_in.defaults["HTTP_ACCEPT_LANGUAGE"] = "fr"
    response = export(signed_in, proposal__call__id__exact=world["call"].pk)
    names = headers(response, "Évaluations")
    assert names[:3] == ["Référence", "Institut", "Expert·e"]
    assert f"1. {Criterion.objects.get(call=world['call'], position=1).label_fr}" in names
    assert headers(response, "Conflits d'intérêts")[0] == "Référence"


def test_the_export_costs_the_same_queries_for_few_and_many_reviews(signed_in, queries):
    call = closed_call(year=2031)
    insu = InstituteFactory()

    def grow(size):
        for n in range(size):
            proposal = submitted_proposal(call, evaluating_institute=insu)
            reviewer = make_reviewer(insu, name=f"R {n}", email=f"r{proposal.pk}@example.org")
            make_review(proposal, reviewer, scores=[3] * 6)
            Conflict.objects.create(proposal=proposal, reviewer=reviewer, source="detected", cause="same_unit_as_pi",
                                    created_at=timezone.now())

    assert queries.at_sizes(grow, lambda: export(signed_in, proposal__call__id__exact=call.pk)) == (11, 11)


def test_who_may_download(client, world):
    assert statuses(client, reverse(EXPORT), people(officer_of=world["panel"])) == EXPECTED
