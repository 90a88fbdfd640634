"""A query string typed by hand or left over from an old link (a year that is no number, an unknown panel, a
filter value no filter knows) gets a page, never a server error."""

import pytest

from tests.factories import StaffFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("url", [
    "/admin/?call=abc", "/admin/?call=99999",
    "/admin/statistics/?call=abc&institute=zz&delegation=-1", "/admin/statistics/?call=99999",
    "/admin/statistics/?format=pdf",
    "/admin/statistics/reviewers/?panel=abc", "/admin/statistics/reviewers/?panel=99999",
    "/admin/reviews/assignment/?overdue=x", "/admin/funding/tranche/?releasable=x",
    "/admin/proposals/proposal/export.xlsx?call__id__exact=abc",
    "/panels/statistics/?institute=abc", "/calls/9999/figures/",
])
def test_a_bad_query_gets_a_page_not_a_server_error(client, url):
    client.force_login(StaffFactory())
    assert client.get(url).status_code in (200, 302, 404)
