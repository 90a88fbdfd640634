"""The institute officer's panel pages: the list of panels, the panel table (with its export and the
ranking), and one page per proposal with its reviews and the panel's recommendation. Assignments and the
reviewer pool are in ``reviews.views.officer_pool``.

Every view finds the panel through ``reviews.rules.panels_for`` and the proposals through
``reviews.rules.panel_proposals``, so an officer of another institute, a reviewer or a PI gets a 404,
and an officer never sees a proposal they are in conflict with. Decisions are taken by
``reviews.domain``; the views only read forms and show the outcome.
"""

import re
from types import SimpleNamespace

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Exists, F, Func, IntegerField, OuterRef, Prefetch, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from iea import formats
from iea.http import private_download
from iea.roles import user_roles
from proposals.models import Proposal, ThreadTopic, evaluated_by
from proposals.threads import unread_counts

from ..domain import panel as domain
from ..domain import panel_table as table_domain
from ..domain.affinities import under_way as affinities_under_way
from ..domain.assignment import REVIEWABLE_STATES
from ..domain.bids import proposal_bids
from ..domain.coauthors import DISMISSIBLE_CAUSES
from ..domain.conflicts import cause_label
from ..domain.messages import award_of
from ..domain.readiness import proposal_threshold_misses, thresholds_in_words, weighted_total
from ..exports import XLSX_CONTENT_TYPE, panel_table_xlsx
from ..forms.officer import AssignForm, ConflictForm, RecommendationForm, TableFilterForm
from ..models import Assignment, Conflict, ConflictDismissal, Review, Reviewer, ReviewState, Score
from ..rules import (
    OPEN_ASSIGNMENT_STATES,
    can_manage_panel,
    can_recommend,
    not_conflicted,
    panel_proposals,
    panels_for,
)
from ..selectors import PanelHealth, panel_health, proposal_best_matches


def panel_for_officer(request, panel_id):
    panel = get_object_or_404(panels_for(request.user).select_related("call", "institute"), pk=panel_id)
    if not can_manage_panel(request.user, panel):
        raise Http404
    return panel


def officer_proposals(panel, user):
    return panel_proposals(panel, user).filter(state__in=domain.PANEL_STATES)


def reviewer_pool(panel):
    return Reviewer.objects.filter(institute_id=panel.institute_id).select_related("user").order_by("user__email")


def refuse(request, error: ValidationError):
    for message in error.messages:
        messages.error(request, message)


def form_errors(request, form):
    for errors in form.errors.values():
        for error in errors:
            messages.error(request, error)


def _count(queryset):
    """A correlated COUNT(*) subquery, for per-row counts without joins that multiply rows."""
    return Coalesce(
        Subquery(queryset.order_by().annotate(n=Func(F("pk"), function="COUNT")).values("n")[:1],
                 output_field=IntegerField()),
        0,
    )


@login_required
@require_GET
def panel_list(request):
    """The panels the user runs (staff: all), with the progress of their review and what needs the
    officer: proposals short of reviewers, reviews overdue, recommendations to make
    (``reviews.selectors.panel_health``). Eight queries, whatever the number of panels."""
    roles = user_roles(request.user)
    if not (roles.officer or roles.staff):
        raise Http404
    user = request.user
    proposals = Proposal.objects.filter(call_id=OuterRef("call_id"), state__in=domain.PANEL_STATES).filter(
        evaluated_by(OuterRef("institute_id"))
    )
    done = Review.objects.filter(assignment__panel=OuterRef("pk"), state=ReviewState.SUBMITTED).exclude(
        Exists(Conflict.objects.filter(proposal_id=OuterRef("proposal_id"), reviewer_id=OuterRef("reviewer_id")))
    )
    open_assignments = Assignment.objects.filter(panel=OuterRef("pk"), state__in=OPEN_ASSIGNMENT_STATES)
    panels = list(
        panels_for(user).select_related("call", "institute")
        .annotate(
            proposal_count=_count(not_conflicted(proposals, user)),
            reviews_done=_count(not_conflicted(done, user, "proposal_id")),
            open_assignments=_count(not_conflicted(open_assignments, user, "proposal_id")),
        )
        .order_by("-call__year", "institute__code")
    )
    health = {row.panel.pk: row for row in panel_health(panels_for(user), now=timezone.now(), user=user)}
    for panel in panels:
        panel.reviews_expected = panel.proposal_count * panel.reviews_per_proposal
        panel.health = health.get(panel.pk) or PanelHealth(panel)
    return render(request, "reviews/officer/list.html", {"panels": panels})


# ---------------------------------------------------------------------------------------------------
# The panel table
# ---------------------------------------------------------------------------------------------------

# Columns whose first click sorts from the highest value.
_DESCENDING_FIRST = {"total", "median", "spread", "calibrated", "priority", "amount"}
_TEXT_COLUMNS = {"reference", "priority", "recommendation"}


def _sort_columns(request, criteria, current: str):
    labels = [("reference", _("Proposal"))]
    labels += [(f"c{criterion.position}", str(criterion.position)) for criterion in criteria]
    labels += [
        ("total", _("Weighted total")), ("calibrated", _("Calibrated")), ("median", _("Median")),
        ("spread", _("Spread")), ("reviews", _("Reviews")), ("priority", _("Priorities")),
        ("recommendation", _("Recommendation")), ("rank", _("Rank")),
    ]
    titles = {f"c{criterion.position}": criterion.label for criterion in criteria}
    columns = []
    for key, label in labels:
        params = request.GET.copy()
        urls = {}
        for direction, value in (("asc", key), ("desc", f"-{key}")):
            params["sort"] = value
            urls[direction] = f"?{params.urlencode()}"
        if current == key:
            state, toggle = "ascending", urls["desc"]
        elif current == f"-{key}":
            state, toggle = "descending", urls["asc"]
        else:
            state, toggle = "none", urls["desc"] if key in _DESCENDING_FIRST else urls["asc"]
        columns.append({"key": key, "label": label, "title": titles.get(key, ""), "aria_sort": state,
                        "numeric": key not in _TEXT_COLUMNS,
                        "url": toggle, "asc_url": urls["asc"], "desc_url": urls["desc"]})
    return columns


def _table(request, panel):
    form = TableFilterForm(request.GET or None)
    table = table_domain.panel_table(panel=panel, user=request.user, sort=request.GET.get("sort", ""),
                                     **form.filters())
    return form, table.criteria, table, table.sort


# A panel may hold thousands of proposals: the table shows a page at a time, and reads only that page's rows
# (the sort, the filters and the count are SQL over the whole panel; the export writes every row).
TABLE_ROWS_PER_PAGE = 100


def _numbers(rows) -> None:
    """Each row's figures as the page writes them (two decimals, in the reader's language), formatted here in
    one pass: a template filter per cell was a fifth of the page's time (docs/benchmarks.md)."""
    language = translation.get_language()

    def text(value):
        return "—" if value is None else formats.number(value, decimals=2, language=language)

    for row in rows:
        row.numbers = SimpleNamespace(means=[text(mean) for mean in row.criterion_means], total=text(row.weighted_total),
                                      calibrated=text(row.calibrated), median=text(row.median), spread=text(row.spread))


@login_required
@require_GET
def panel_table(request, panel_id):
    panel = panel_for_officer(request, panel_id)
    form, criteria, rows, sort = _table(request, panel)
    page = Paginator(rows, TABLE_ROWS_PER_PAGE).get_page(request.GET.get("page"))
    _numbers(page.object_list)
    params = request.GET.copy()
    params.pop("page", None)
    return render(request, "reviews/officer/table.html", {
        "panel": panel, "tab": "table", "form": form, "criteria": criteria, "rows": page.object_list, "sort": sort,
        "page": page,
        "page_ids": ",".join(str(row.proposal.pk) for row in page.object_list),
        "columns": _sort_columns(request, criteria, sort), "threshold": table_domain.DISAGREEMENT_THRESHOLD,
        "thresholds": thresholds_in_words(call=panel.call, criteria=criteria),
        "export_query": params.urlencode(),
    })


@login_required
@require_GET
def panel_export(request, panel_id):
    """The panel table as shown (same filters and order), as an Excel workbook."""
    panel = panel_for_officer(request, panel_id)
    _form, criteria, rows, _sort = _table(request, panel)
    code = re.sub(r"[^A-Za-z0-9_-]", "", panel.institute.code)
    return private_download(panel_table_xlsx(panel=panel, criteria=criteria, rows=rows),
                            filename=f"panel-{panel.call.year}-{code}.xlsx", content_type=XLSX_CONTENT_TYPE)


@login_required
@require_POST
def panel_rank(request, panel_id):
    """The numbers typed in the table give the order; ranks become 1..n in that order."""
    panel = panel_for_officer(request, panel_id)
    entries = []
    for key, value in request.POST.items():
        if not key.startswith("rank-") or not value.strip():
            continue
        try:
            proposal_id, number = int(key.removeprefix("rank-")), int(value)
        except ValueError:
            number = 0
        if number < 1:
            messages.error(request, _("Ranks are whole numbers from 1."))
            return redirect("panel:table", panel_id=panel.pk)
        entries.append((number, proposal_id))
    numbers = [number for number, _pk in entries]
    duplicates = sorted({number for number in numbers if numbers.count(number) > 1})
    if duplicates:
        messages.error(request, _("Two proposals have the same rank: %(ranks)s.") % {
            "ranks": ", ".join(str(n) for n in duplicates)})
        return redirect("panel:table", panel_id=panel.pk)
    ordered = [pk for _n, pk in sorted(entries)]
    page_ids = {int(pk) for pk in request.POST.get("page_ids", "").split(",") if pk.strip().isdigit()}
    if page_ids:
        # One page of the table was ranked: the proposals of the other pages keep their place.
        ordered = domain.ranking_of_page(panel=panel, user=request.user, typed=sorted(entries), page_ids=page_ids)
    try:
        ranks = domain.ranks_set(panel_id=panel.pk, user=request.user, now=timezone.now(),
                                 ordered_proposal_ids=ordered)
    except ValidationError as error:
        refuse(request, error)
    else:
        messages.success(request, ngettext("%(n)d proposal ranked.", "%(n)d proposals ranked.", len(ranks)) % {"n": len(ranks)})
    return redirect(f"{reverse('panel:table', args=[panel.pk])}?sort=rank")


# ---------------------------------------------------------------------------------------------------
# One proposal: its reviews and the panel's recommendation
# ---------------------------------------------------------------------------------------------------

def _proposal_for(request, panel, proposal_id):
    proposal = get_object_or_404(
        officer_proposals(panel, request.user).select_related("pi", "unit", "call", "panel_recommendation"), pk=proposal_id
    )
    if not can_recommend(request.user, proposal):
        raise Http404
    return proposal


@login_required
@require_http_methods(["GET", "POST"])
def panel_proposal(request, panel_id, proposal_id):
    panel = panel_for_officer(request, panel_id)
    proposal = _proposal_for(request, panel, proposal_id)
    record = getattr(proposal, "panel_recommendation", None)
    if request.method == "POST":
        form = RecommendationForm(request.POST)
        if form.is_valid():
            try:
                domain.recommendation_set(proposal_id=proposal.pk, user=request.user, now=timezone.now(), **form.cleaned_data)
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(request, _("The panel's recommendation is saved."))
                return redirect("panel:proposal", panel_id=panel.pk, proposal_id=proposal.pk)
    else:
        form = RecommendationForm(initial={
            "consensus": record.consensus, "recommendation": record.recommendation,
            "proposed_amount": record.proposed_amount,
        } if record else None)
    weights = {criterion.pk: criterion.weight for criterion in panel.call.criteria.all()}
    conflicted = set(proposal.conflicts.values_list("reviewer_id", flat=True))
    reviews = list(
        proposal.reviews.select_related("reviewer__user")
        .prefetch_related(Prefetch("scores", Score.objects.select_related("criterion")))
        .order_by("state", "reviewer__user__email")
    )
    for review in reviews:
        review.in_conflict = review.reviewer_id in conflicted
        review.total = weighted_total(
            {s.criterion_id: s.score for s in review.scores.all() if s.score is not None}, weights
        )
    pool = reviewer_pool(panel)
    single = officer_proposals(panel, request.user).filter(pk=proposal.pk)
    return render(request, "reviews/officer/proposal.html", {
        "panel": panel, "tab": "table", "proposal": proposal, "record": record, "form": form,
        "reviews": reviews, "call": panel.call,
        "assignments": proposal.assignments.select_related("reviewer__user", "review").order_by("created_at"),
        "conflicts": labelled(proposal.conflicts.select_related("reviewer__user")),
        "dismissals": labelled(ConflictDismissal.objects.filter(proposal=proposal)
                               .select_related("reviewer__user", "dismissed_by").order_by("dismissed_at", "pk")),
        "assign_form": _fixed(AssignForm(proposals=single, reviewers=pool.filter(active=True)), proposal),
        "conflict_form": _fixed(ConflictForm(proposals=single, reviewers=pool, prefix="conflict"), proposal),
        "assignable": proposal.state in REVIEWABLE_STATES,
        "proposal_bids": proposal_bids(panel, proposal),
        "recommendable": proposal.state in domain.RECOMMENDABLE_STATES,
        "threshold_misses": proposal_threshold_misses(proposal),
        "best_matches": proposal_best_matches(panel=panel, proposal_id=proposal.pk),
        "under_way": affinities_under_way(panel, timezone.now()),
        "conversation_unread": _conversation_unread(request.user, proposal),
        "has_award": award_of(proposal) is not None,
    })


def _conversation_unread(user, proposal) -> dict[str, int]:
    """The officer's unread messages in the proposal's conversations, by topic (#21)."""
    counts = unread_counts(user, proposal_ids=[proposal.pk])
    return {topic: counts.get((proposal.pk, topic), 0) for topic in ThreadTopic.values}


def labelled(conflicts):
    conflicts = list(conflicts)
    for conflict in conflicts:
        conflict.label = cause_label(conflict.cause)
        conflict.dismissible = conflict.cause in DISMISSIBLE_CAUSES
    return conflicts


def _fixed(form, proposal):
    form.fields["proposal"].widget = forms.HiddenInput()
    form.initial["proposal"] = proposal.pk
    return form
