"""The dashboard of a call, the back office's home: where the call's proposals are, by institute and state;
its budget; and what waits for the directorate — reports to approve, tranches to release, mails that failed or
wait past their time. Every figure is a count the database makes, with the link to the list behind it (the
same filters, so the list shows as many rows as the figure says: tested); a figure whose list the person may
not open has no link.

Thirteen queries whatever the call's size (the calls of the switcher, the institutes, the pipeline, the budget's
two, reports, tranches, awards, the panels' four, notifications).
"""

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from urllib.parse import urlencode

from django.contrib import admin
from django.db.models import Count, Q, Sum
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone

from calls.models import Call, CallState, Institute
from funding.domain.acceptance import counts_against_envelope
from funding.models import Award, AwardState, Report, ReportState, Tranche, TrancheState
from funding.selectors import tranches_due
from iea.notifications.domain import attention_q
from iea.notifications.models import Notification
from proposals.models import Proposal, ProposalState, evaluating_institute
from reviews.models import Assignment, Decision, DecisionOutcome, Panel
from reviews.selectors import panel_health

# The pipeline's columns: every state, in the order a proposal goes through them.
PIPELINE = [ProposalState.DRAFT, ProposalState.SUBMITTED, ProposalState.ELIGIBLE, ProposalState.INELIGIBLE,
            ProposalState.IN_REVIEW, ProposalState.RANKED, ProposalState.SELECTED, ProposalState.RESERVE,
            ProposalState.REJECTED, ProposalState.FUNDED, ProposalState.WITHDRAWN]

# Which call the home shows: the one the directorate is busiest with.
_BUSIEST = [CallState.IN_REVIEW, CallState.CLOSED, CallState.OPEN, CallState.PUBLISHED]


@dataclass(frozen=True)
class Figure:
    value: int | Decimal | None
    url: str = ""


@dataclass
class PipelineRow:
    institute: Institute | None
    cells: list[Figure]
    total: Figure


@dataclass
class PanelRow:
    """One panel of the call: proposals short of reviewers, reviews overdue, proposals waiting for the
    panel's recommendation (``reviews.selectors.panel_health``)."""

    panel: Panel
    short: Figure
    overdue: Figure
    to_recommend: Figure


@dataclass
class CallDashboard:
    call: Call
    calls: list[Call]
    states: list[tuple[str, str]]
    rows: list[PipelineRow]
    totals: list[Figure]
    total: Figure
    envelope: Decimal | None
    committed: Figure
    released: Figure
    reports_to_approve: Figure
    tranches_releasable: Figure
    awards_awaiting: Figure
    mails_failed: Figure
    mails_late: Figure
    panels: list[PanelRow] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def left(self) -> Decimal | None:
        return None if self.envelope is None else self.envelope - (self.committed.value or Decimal(0))


def current_call(calls: list[Call]) -> Call | None:
    """The call the directorate works on (``calls`` newest first): in review, else closed, else open, else
    published, else the latest."""
    for state in _BUSIEST:
        for call in calls:
            if call.state == state:
                return call
    return calls[0] if calls else None


def _url(request, model, **params) -> str:
    """The admin list of ``model`` filtered by ``params``, or "" when the person may not open it."""
    model_admin = admin.site._registry.get(model)
    if model_admin is None or not model_admin.has_view_permission(request):
        return ""
    query = urlencode({key: value for key, value in params.items() if value is not None})
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist") + (f"?{query}" if query else "")


def call_dashboard(request, *, call: Call, calls: list[Call], now: dt.datetime) -> CallDashboard:
    proposals_url = lambda **p: _url(request, Proposal, call__id__exact=call.pk, **p)  # noqa: E731
    counts = (Proposal.objects.filter(call=call).annotate(institute_id_=evaluating_institute())
              .values("institute_id_", "state").annotate(n=Count("pk")).order_by())
    by_cell: dict[tuple[int | None, str], int] = {(row["institute_id_"], row["state"]): row["n"] for row in counts}
    institutes = {i.pk: i for i in Institute.objects.filter(pk__in={key for key, _ in by_cell}).order_by("code")}
    keys = [*institutes, *([None] if any(key is None for key, _ in by_cell) else [])]
    rows = []
    for key in keys:
        cells = [Figure(by_cell.get((key, state), 0), proposals_url(state__exact=state, institute=key)
                        if key and by_cell.get((key, state)) else "") for state in PIPELINE]
        count = sum(by_cell.get((key, state), 0) for state in PIPELINE)
        rows.append(PipelineRow(institutes.get(key), cells, Figure(count, proposals_url(institute=key) if key else "")))
    totals = []
    for state in PIPELINE:
        count = sum(n for (_, s), n in by_cell.items() if s == state)
        totals.append(Figure(count, proposals_url(state__exact=state) if count else ""))
    total = sum(by_cell.values())

    selected = Q(outcome=DecisionOutcome.SELECTED) & counts_against_envelope("proposal__")
    committed = Decision.objects.filter(proposal__call=call).aggregate(
        total=Coalesce(Sum("amount", filter=selected), Decimal(0)))["total"]
    released = Tranche.objects.filter(award__proposal__call=call, state=TrancheState.RELEASED).aggregate(
        total=Coalesce(Sum("amount"), Decimal(0)))["total"]
    reports = Report.objects.filter(award__proposal__call=call, state=ReportState.COSIGNED).count()
    today = timezone.localdate(now)
    releasable = tranches_due().filter(award__proposal__call=call, planned_date__lte=today).count()
    awaiting = Award.objects.filter(proposal__call=call, state=AwardState.AWAITING).count()
    panels = [_panel_row(request, health) for health in panel_health(Panel.objects.filter(call=call), now=now)]
    mails = Notification.objects.aggregate(failed=Count("pk", filter=attention_q("failed", now=now)),
                                           late=Count("pk", filter=attention_q("late", now=now)))
    return CallDashboard(
        call=call, calls=calls, states=[(state, ProposalState(state).label) for state in PIPELINE], rows=rows,
        totals=totals, total=Figure(total, proposals_url() if total else ""), envelope=call.total_envelope,
        committed=Figure(committed, reverse("admin:reviews_decisions", args=[call.pk])
                         if _url(request, Decision) else ""),
        released=Figure(released, _url(request, Tranche, award__proposal__call__id__exact=call.pk,
                                        state__exact=TrancheState.RELEASED) if released else ""),
        reports_to_approve=Figure(reports, _url(request, Report, award__proposal__call__id__exact=call.pk,
                                                state__exact=ReportState.COSIGNED) if reports else ""),
        tranches_releasable=Figure(releasable, _url(request, Tranche, award__proposal__call__id__exact=call.pk,
                                                    releasable="now") if releasable else ""),
        awards_awaiting=Figure(awaiting, _url(request, Award, proposal__call__id__exact=call.pk,
                                              state__exact=AwardState.AWAITING) if awaiting else ""),
        mails_failed=Figure(mails["failed"], _url(request, Notification, attention="failed")
                            if mails["failed"] else ""),
        mails_late=Figure(mails["late"], _url(request, Notification, attention="late")
                          if mails["late"] else ""),
        panels=panels,
    )


def _panel_row(request, health) -> PanelRow:
    """The panel's figures; short and to-recommend open the panel's own pages (staff manage every panel:
    ``reviews.rules.can_manage_panel``), overdue the assignments list."""
    panel = health.panel
    return PanelRow(
        panel=panel,
        short=Figure(health.short, reverse("panel:assignments", kwargs={"panel_id": panel.pk})
                     if health.short else ""),
        overdue=Figure(health.overdue, _url(request, Assignment, panel__call__id__exact=panel.call_id,
                                            panel__institute__id__exact=panel.institute_id, overdue="1")
                       if health.overdue else ""),
        to_recommend=Figure(health.to_recommend, reverse("panel:table", kwargs={"panel_id": panel.pk})
                            if health.to_recommend else ""),
    )
