"""The reviewers' statistics of a panel, for its officers and staff (``reviews.statistics``): a table with a
row per reviewer and, beside it, their offsets to the other reviewers as a dot strip. Names show here only: the
page is the panel's officers' and staff's (``panel_for_officer``: anyone else gets a 404)."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from iea import charts, formats

from ..statistics import reviewer_statistics
from .officer import panel_for_officer


def statistics_context(panel, user) -> dict:
    """The rows and the chart, for this page and the back office's (``/admin/statistics/reviewers/``)."""
    rows = reviewer_statistics(panel=panel, user=user, now=timezone.now())
    chart = charts.dot_strip(
        [(row.reviewer.user.full_name or row.reviewer.user.email, row.offset) for row in rows],
        key="chart-offsets", title=_("Offset to the other reviewers of the same proposals"),
        description=_("Each reviewer's weighted totals minus the mean of the other reviewers' on the same "
                      "proposals, on average: above zero, more generous; below, stricter."),
        value_format=lambda value: formats.number(value, decimals=2))
    return {"panel": panel, "rows": rows, "chart": chart}


@login_required
@require_GET
def panel_reviewer_statistics(request, panel_id):
    panel = panel_for_officer(request, panel_id)
    return render(request, "reviews/officer/reviewer_statistics.html",
                  {**statistics_context(panel, request.user), "tab": "statistics"})
