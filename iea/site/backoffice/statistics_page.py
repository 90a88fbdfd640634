"""The statistics page of the back office (``/admin/statistics/``): the tables of ``statistics.py`` for the calls,
institute and delegation chosen in a GET form, each with its chart beside it, the counts linking to the
proposals list with the same filters (tested: as many rows as the count), and ``?format=xlsx`` for one workbook.

A table is built once (``Table``: its caption, headers and cells with their kind) and both the page and the
workbook read it, so they cannot disagree.
"""

from dataclasses import dataclass, field
from urllib.parse import urlencode

from django import forms
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from calls.models import Call, Delegation, Institute
from iea import charts, formats
from proposals.models import Proposal
from reviews.domain.screening import PASSED_SCREENING_STATES

from .dashboard import _url
from .statistics import DEFINITIONS, Row, StatsScope, statistics

ALL = "all"


@dataclass(frozen=True)
class Cell:
    """A value and how to read it: ``"count"``, ``"money"``, ``"rate"`` (a ratio, "—" when none) or ``"text"``."""

    value: object
    kind: str = "count"
    url: str = ""

    @property
    def text(self) -> str:
        if self.kind == "rate":
            return "—" if self.value is None else formats.percent(self.value)
        if self.kind == "money":
            return formats.money(self.value)
        if self.kind == "count":
            return formats.number(self.value)
        return str(self.value)


@dataclass
class Table:
    key: str
    caption: str
    headers: list[str]
    rows: list[list[Cell]]
    chart: SafeString | str = ""
    footer: list[Cell] = field(default_factory=list)


class StatisticsFilter(forms.Form):
    """The page's filters: a call's year or every call, an institute, a regional delegation (ids as on the
    proposals list's filters)."""

    call = forms.ChoiceField(label=gettext_lazy("Call"), required=False)
    institute = forms.ModelChoiceField(label=gettext_lazy("Institute"), required=False,
                                       queryset=Institute.objects.order_by("code"),
                                       empty_label=gettext_lazy("Every institute"))
    delegation = forms.ModelChoiceField(label=gettext_lazy("Regional delegation"), required=False,
                                        queryset=Delegation.objects.order_by("name"),
                                        empty_label=gettext_lazy("Every delegation"))

    def __init__(self, *args, calls: list[Call], **kwargs):
        super().__init__(*args, **kwargs)
        self.calls = calls
        self.fields["call"].choices = [(ALL, _("Every call")), *((str(c.year), str(c.year)) for c in calls)]

    def scope(self) -> StatsScope:
        data = self.cleaned_data if self.is_valid() else {}
        call = next((c for c in self.calls if str(c.year) == data.get("call")), None)
        institute, delegation = data.get("institute"), data.get("delegation")
        return StatsScope(call_ids=(call.pk,) if call else None,
                          institute_ids=(institute.pk,) if institute else None,
                          delegation_id=delegation.pk if delegation else None)


class _Links:
    """The proposals list with the page's filters and a row's own, or "" when the person may not open it."""

    def __init__(self, request, scope: StatsScope):
        self.request = request
        self.base = {"call__id__exact": scope.call_ids[0] if scope.call_ids else None,
                     "institute": scope.institute_ids[0] if scope.institute_ids else None,
                     "unit__delegation__id__exact": scope.delegation_id}

    def submitted(self, **params) -> str:
        return _url(self.request, Proposal, **{**self.base, **params, "submitted_at__isnull": "False"})

    def eligible(self, **params) -> str:
        return _url(self.request, Proposal, **{**self.base, **params, "submitted_at__isnull": "False",
                                               "state__in": ",".join(PASSED_SCREENING_STATES)})


def _counts(row: Row, links: _Links | None, **params) -> list[Cell]:
    return [
        Cell(row.label, "text"),
        Cell(row.submitted, url=links.submitted(**params) if links and row.submitted else ""),
        Cell(row.eligible, url=links.eligible(**params) if links and row.eligible else ""),
        Cell(row.selected), Cell(row.funded), Cell(row.rate, "rate"), Cell(row.eligible_rate, "rate"),
        Cell(row.amount, "money"),
    ]


def _headers(first: str) -> list[str]:
    return [first, _("Submitted"), _("Eligible"), _("Selected"), _("Funded"), _("Success rate"),
            _("Selected ÷ eligible"), _("Amount selected")]


def build_tables(request, stats, *, links: bool = True) -> list[Table]:
    link = _Links(request, stats.scope) if links else None
    total = stats.total
    years = Table(
        "years", _("Proposals by call"), _headers(_("Call")),
        [_counts(row, link, call__id__exact=row.key) for row in stats.years],
        charts.grouped_bars([(row.label, [row.submitted, row.eligible, row.selected]) for row in stats.years],
                            series=[_("Submitted"), _("Eligible"), _("Selected")], key="chart-years",
                            title=_("Proposals by call"),
                            description=_("Submitted, eligible and selected proposals in each call.")),
        footer=[Cell(_("Total"), "text"), *_counts(total, link)[1:]])
    institutes = Table(
        "institutes", _("By evaluating institute"), _headers(_("Institute")),
        [_counts(row, link, institute=row.key) if row.key else _counts(row, None) for row in stats.institutes],
        charts.bars([(row.label, row.rate) for row in stats.institutes if row.rate is not None], max_value=1,
                    value_format=formats.percent, key="chart-institutes",
                    title=_("Success rate by evaluating institute"),
                    description=_("Selected ÷ submitted for each institute.")))
    delegations = Table(
        "delegations", _("By regional delegation"), _headers(_("Regional delegation")),
        [_counts(row, link, unit__delegation__id__exact=row.key) if row.key else _counts(row, None)
         for row in stats.delegations],
        charts.bars([(row.label, row.submitted) for row in stats.delegations], key="chart-delegations",
                    title=_("Submitted proposals by regional delegation"),
                    description=_("The number of submitted proposals of each delegation's units.")))
    countries = Table(
        "countries", _("By partner country"), _headers(_("Partner country")),
        [_counts(row, link, partner_country__exact=row.key) if row.key else _counts(row, None)
         for row in stats.countries],
        charts.world_map({row.key: row.selected for row in stats.countries if row.key}, key="chart-countries",
                         title=_("Selected proposals by partner country"),
                         description=_("The darker a country, the more proposals with a partner there were "
                                       "selected.")))
    early = Table(
        "early_career", _("Teams with early-career researchers"),
        [_("Call"), _("Submitted"), _("With early-career researchers"), _("CNRS side"), _("Partner side"),
         _("Share"), _("Success rate with"), _("Success rate without")],
        [[Cell(row.label, "text"), Cell(row.submitted), Cell(row.with_early_career), Cell(row.cnrs_side),
          Cell(row.partner_side), Cell(row.share, "rate"), Cell(row.rate_with, "rate"),
          Cell(row.rate_without, "rate")] for row in stats.early_career],
        charts.grouped_bars([(row.label, [row.rate_with, row.rate_without]) for row in stats.early_career
                             if row.submitted],
                            series=[_("With early-career researchers"), _("Without")], max_value=1,
                            value_format=formats.percent, key="chart-early-career",
                            title=_("Success rate of teams with and without early-career researchers"),
                            description=_("Selected ÷ submitted in each call, for each kind of team.")))
    again = Table(
        "resubmissions", _("Resubmissions"),
        [_("Call"), _("Submitted"), _("Resubmissions"), _("Share"), _("Success rate of resubmissions"),
         _("Success rate of first submissions")],
        [[Cell(row.label, "text"), Cell(row.submitted), Cell(row.resubmissions), Cell(row.share, "rate"),
          Cell(row.rate_resubmissions, "rate"), Cell(row.rate_first, "rate")] for row in stats.resubmissions],
        charts.grouped_bars([(row.label, [row.rate_resubmissions, row.rate_first]) for row in stats.resubmissions
                             if row.submitted],
                            series=[_("Resubmissions"), _("First submissions")], max_value=1,
                            value_format=formats.percent, key="chart-resubmissions",
                            title=_("Success rate of resubmissions and first submissions"),
                            description=_("Selected ÷ submitted in each call.")))
    return [years, institutes, delegations, countries, early, again]


def statistics_view(request, site):
    """Staff who may view proposals; ``?format=xlsx``: the same tables as a workbook, one sheet each."""
    if not request.user.has_perm("proposals.view_proposal"):
        raise PermissionDenied
    calls = list(Call.objects.order_by("-year"))
    form = StatisticsFilter(request.GET or None, calls=calls)
    scope = form.scope()
    stats = statistics(scope, calls)
    if request.GET.get("format") == "xlsx":
        from .exports import statistics_xlsx  # noqa: PLC0415 -- openpyxl only for the download

        return statistics_xlsx(request, build_tables(request, stats, links=False), scope=scope, calls=calls)
    query = urlencode({key: value for key, value in request.GET.items() if key != "format"})
    return TemplateResponse(request, "admin/backoffice/statistics.html", {
        **site.each_context(request), "title": _("Statistics"), "form": form, "tables": build_tables(request, stats),
        "definitions": DEFINITIONS, "xlsx_url": f"?{query}&format=xlsx" if query else "?format=xlsx",
    })
