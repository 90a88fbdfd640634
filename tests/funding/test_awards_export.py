"""The awards list's *Export to Excel* (beside the action on chosen awards): exactly the filtered list's awards,
the same queries at any size, only for those who may view the list. What a row holds: tests/funding/test_exports.py
and test_admin.py."""

from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from funding.models import AwardState
from tests.backoffice.workbooks import EXPECTED, people, sheet_rows, statuses
from tests.factories import CallFactory

from .admin_factories import add_spending, make_award

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:funding_award_changelist"
EXPORT = "admin:funding_award_export"


def test_the_workbook_holds_exactly_the_rows_of_the_filtered_list(signed_in, staff):
    call = CallFactory(year=2031)
    first = make_award(user=staff, call=call)
    make_award(user=staff, call=call, amount=Decimal(10000))
    make_award(user=staff, call=CallFactory(year=2030))
    for params in ({}, {"proposal__call__id__exact": call.pk}, {"state__exact": AwardState.ACTIVE},
                   {"q": first.proposal.reference}, {"state__exact": AwardState.CANCELLED}):
        listed = signed_in.get(reverse(CHANGELIST), params).context["cl"]
        rows = sheet_rows(signed_in.get(reverse(EXPORT), params), "Awards")
        assert sorted(row["Reference"] for row in rows) == sorted(
            award.proposal.reference for award in listed.result_list), params
        assert len(rows) == listed.result_count, params
    response = signed_in.get(reverse(EXPORT), {"proposal__call__id__exact": call.pk})
    assert response["Content-Disposition"] == f'attachment; filename="awards-2031-{timezone.localdate():%Y-%m-%d}.xlsx"'
    html = signed_in.get(reverse(CHANGELIST), {"proposal__call__id__exact": call.pk}).content.decode()
    assert f'href="{reverse(EXPORT)}?proposal__call__id__exact={call.pk}"' in html and "Export to Excel (2 rows)" in html


def test_the_export_costs_the_same_queries_for_few_and_many_awards(signed_in, staff, queries):
    call = CallFactory(year=2031)

    def grow(size):
        for _n in range(size):
            add_spending(make_award(user=staff, call=call), category="mobility", amount=Decimal(100))

    assert queries.at_sizes(grow, lambda: signed_in.get(reverse(EXPORT), {"proposal__call__id__exact": call.pk})) == (
        12, 12)


def test_who_may_download(client):
    # Any directorate member reads the awards (funding.rules: funding.view_award), as the list shows them.
    who = people()
    assert client.force_login(who["staff_without_permission"]) or client.get(reverse(CHANGELIST)).status_code == 200
    assert statuses(client, reverse(EXPORT), who) == {**EXPECTED, "staff_without_permission": 200}
