"""The institute officer's pages about who reviews: the assignments of the panel (by hand, automatic),
conflicts set by the officer, and the institute's reviewer pool. Same access rule as
``reviews.views.officer``: the panel through ``panels_for``, the proposals through ``panel_proposals``."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Prefetch, Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from ..domain import pool as pool_domain
from ..domain.affinities import affinity_view
from ..domain.assignment import (
    REVIEWABLE_STATES,
    assignment_create,
    assignments_create_many,
    assignments_plan,
    reviewer_load,
)
from ..domain.assignment_job import assignment_job_start, assignment_job_view
from ..domain.availability import coming_absences
from ..domain.caps import assignment_warnings, pool_caps_and_absences
from ..domain.coauthors import DISMISSIBLE_CAUSES
from ..domain.conflicts import cause_label, conflict_dismiss, conflict_set_by_officer
from ..domain.matching import assignment_why
from ..forms.availability import CapForm
from ..forms.officer import AssignForm, AssignManyForm, ConflictDismissForm, ConflictForm, ReviewerAddForm
from ..models import Assignment, Conflict
from ..rules import OPEN_ASSIGNMENT_STATES, panel_proposals
from .officer import (
    form_errors,
    labelled,
    officer_proposals,
    panel_for_officer,
    refuse,
    reviewer_pool,
)
from .officer_bids import bidding_context, open_suggestions

# The largest institute's panel has over a thousand proposals: the list shows them a page at a time.
ASSIGNMENTS_PER_PAGE = 100
LONG_TEXTS = ("abstract", "activities", "ethics_statement")
CHOICE_FIELDS = ("pk", "reference", "acronym", "title")
HTMX_STOP_POLLING = 286  # https://htmx.org/docs/#polling: the answer is swapped, and the polling stops


# ---------------------------------------------------------------------------------------------------
# Assignments and conflicts
# ---------------------------------------------------------------------------------------------------

def _assignable(panel, user):
    return panel_proposals(panel, user).filter(state__in=REVIEWABLE_STATES).order_by("reference")


@login_required
@require_GET
def panel_assignments(request, panel_id):
    panel = panel_for_officer(request, panel_id)
    page = Paginator(
        _assignable(panel, request.user).defer(*LONG_TEXTS).prefetch_related(
            Prefetch("assignments", Assignment.objects.filter(panel=panel)
                     .select_related("reviewer__user", "review").order_by("created_at")),
            Prefetch("conflicts", Conflict.objects.select_related("reviewer__user")),
        ),
        ASSIGNMENTS_PER_PAGE,
    ).get_page(request.GET.get("page"))
    proposals = list(page.object_list)
    for proposal in proposals:
        for assignment in proposal.assignments.all():
            assignment.why = assignment_why(assignment.reasons) if assignment.automatic else ""
        proposal.open_count = sum(1 for a in proposal.assignments.all() if a.state in OPEN_ASSIGNMENT_STATES)
        proposal.short = proposal.open_count < panel.reviews_per_proposal
        labelled(proposal.conflicts.all())
    pool = reviewer_pool(panel)
    choices = pool.filter(active=True).prefetch_related(coming_absences(timezone.now()))
    initial = {"proposal": request.GET.get("proposal")} if request.GET.get("proposal", "").isdigit() else None
    # The choices only need the label (reference and acronym): over a thousand proposals in a large panel.
    assignable = _assignable(panel, request.user).only(*CHOICE_FIELDS)
    return render(request, "reviews/officer/assignments.html", {
        "panel": panel, "tab": "assignments", "proposals": proposals, "page": page,
        "assign_form": AssignForm(proposals=assignable, reviewers=choices, initial=initial),
        "assign_many_form": AssignManyForm(proposals=assignable, reviewers=choices, prefix="many"),
        "conflict_form": ConflictForm(proposals=officer_proposals(panel, request.user).only(*CHOICE_FIELDS)
                                      .order_by("reference"), reviewers=pool, prefix="conflict", initial=initial),
        "auto": assignment_job_view(panel=panel, user=request.user, now=timezone.now()),
        **bidding_context(panel),
        "affinity": affinity_view(panel=panel, now=timezone.now()),
    })


def _back(request, panel):
    proposal_id = request.POST.get("proposal") or request.POST.get("conflict-proposal") or ""
    if request.POST.get("back") == "proposal" and proposal_id.isdigit():
        return redirect("panel:proposal", panel_id=panel.pk, proposal_id=int(proposal_id))
    return redirect("panel:assignments", panel_id=panel.pk)


@login_required
@require_POST
def panel_assign(request, panel_id):
    panel = panel_for_officer(request, panel_id)
    form = AssignForm(request.POST, proposals=_assignable(panel, request.user), reviewers=reviewer_pool(panel).filter(active=True))
    if not form.is_valid():
        form_errors(request, form)
        return _back(request, panel)
    reviewer = form.cleaned_data["reviewer"]
    try:
        assignment_create(panel=panel, proposal=form.cleaned_data["proposal"], reviewer=reviewer, user=request.user,
                          now=timezone.now(), due_at=form.due_at())
    except ValidationError as error:
        refuse(request, error)
    else:
        messages.success(request, _("%(reviewer)s is invited to review %(reference)s.") % {
            "reviewer": reviewer.user, "reference": form.cleaned_data["proposal"].reference})
        for warning in assignment_warnings(panel=panel, reviewer=reviewer, adding=0, now=timezone.now()):
            messages.warning(request, warning)
    return _back(request, panel)


@login_required
@require_POST
def panel_assign_many(request, panel_id):
    """One reviewer for the ticked proposals: a confirmation lists each pair (refused with the conflict's cause
    or the rule it breaks) and the reviewer's load after; *apply* assigns the pairs not refused at once
    (``assignments_create_many``)."""
    panel = panel_for_officer(request, panel_id)
    form = AssignManyForm(request.POST, proposals=_assignable(panel, request.user),
                          reviewers=reviewer_pool(panel).filter(active=True).select_related("unit"), prefix="many")
    if not form.is_valid():
        form_errors(request, form)
        return redirect("panel:assignments", panel_id=panel.pk)
    reviewer = form.cleaned_data["reviewer"]
    proposals = list(form.cleaned_data["proposals"].select_related("unit", "call").prefetch_related("team")
                     .defer(*LONG_TEXTS).order_by("reference"))
    plan = assignments_plan(panel=panel, reviewer=reviewer, proposals=proposals)
    accepted = [planned.proposal.pk for planned in plan if not planned.refused]
    if "apply" in request.POST:
        if not accepted:
            messages.error(request, _("No ticked proposal can go to this reviewer; nothing was changed."))
            return redirect("panel:assignments", panel_id=panel.pk)
        try:
            created = assignments_create_many(panel_id=panel.pk, reviewer_id=reviewer.pk, proposal_ids=accepted,
                                              user=request.user, now=timezone.now(), due_at=form.due_at())
        except ValidationError as error:
            refuse(request, error)
        else:
            messages.success(request, ngettext(
                "%(reviewer)s is invited to review %(count)s proposal.",
                "%(reviewer)s is invited to review %(count)s proposals.", len(created),
            ) % {"reviewer": reviewer.user, "count": len(created)})
            for warning in assignment_warnings(panel=panel, reviewer=reviewer, adding=0, now=timezone.now()):
                messages.warning(request, warning)
        return redirect("panel:assignments", panel_id=panel.pk)
    load = reviewer_load(panel=panel, reviewer=reviewer)
    return render(request, "reviews/officer/assign_confirm.html", {
        "panel": panel, "tab": "assignments", "form": form, "reviewer": reviewer, "plan": plan,
        "load": load, "load_after": load + len(accepted), "accepted": len(accepted),
        "warnings": assignment_warnings(panel=panel, reviewer=reviewer, adding=len(accepted), now=timezone.now()),
        "refused": len(plan) - len(accepted),
    })


@login_required
@require_POST
def panel_conflict(request, panel_id):
    panel = panel_for_officer(request, panel_id)
    form = ConflictForm(request.POST, proposals=officer_proposals(panel, request.user), reviewers=reviewer_pool(panel), prefix="conflict")
    if not form.is_valid():
        form_errors(request, form)
        return _back(request, panel)
    try:
        conflict_set_by_officer(proposal_id=form.cleaned_data["proposal"].pk, reviewer=form.cleaned_data["reviewer"],
                                user=request.user, reason=form.cleaned_data["reason"], now=timezone.now())
    except ValidationError as error:
        refuse(request, error)
    else:
        messages.success(request, _("The conflict is recorded; any open assignment of this reviewer on the proposal is withdrawn."))
    return _back(request, panel)


@login_required
@require_http_methods(["GET", "POST"])
def panel_conflict_dismiss(request, panel_id, conflict_id):
    """"Not the same person": the officer dismisses a co-author conflict found on a name
    (``conflict_dismiss``), after a confirmation that asks how they know."""
    panel = panel_for_officer(request, panel_id)
    conflict = Conflict.objects.select_related("reviewer__user", "proposal").filter(
        pk=conflict_id, reviewer__institute_id=panel.institute_id,
        proposal__in=officer_proposals(panel, request.user)).first()
    back = redirect("panel:proposal", panel_id=panel.pk, proposal_id=conflict.proposal_id) if conflict else None
    if conflict is None:
        if request.method == "POST":  # dismissed by someone else meanwhile: say so, where the officer was
            messages.error(request, _("This conflict of interest no longer exists: it may have been dismissed already."))
            return redirect("panel:assignments", panel_id=panel.pk)
        raise Http404
    if conflict.cause not in DISMISSIBLE_CAUSES:
        messages.error(request, _("Only a co-author match on a name can be dismissed; this conflict of interest stands."))
        return back
    form = ConflictDismissForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            conflict_dismiss(conflict_id=conflict.pk, user=request.user, reason=form.cleaned_data["reason"],
                             now=timezone.now())
        except ValidationError as error:
            refuse(request, error)
        else:
            messages.success(request, _("The match is dismissed: %(reviewer)s is no longer in conflict with this "
                                        "proposal on this ground. An assignment withdrawn because of it is not "
                                        "restored; you may assign them again.") % {"reviewer": conflict.reviewer.user})
        return back
    conflict.label = cause_label(conflict.cause)
    return render(request, "reviews/officer/conflict_dismiss.html", {
        "panel": panel, "tab": "assignments", "conflict": conflict, "proposal": conflict.proposal, "form": form,
    })


@login_required
@require_POST
def panel_auto_assign(request, panel_id):
    """Starts the automatic assignment in the background; the assignments page follows its progress."""
    panel = panel_for_officer(request, panel_id)
    try:
        assignment_job_start(panel_id=panel.pk, user=request.user, now=timezone.now())
    except ValidationError as error:
        refuse(request, error)
    else:
        messages.success(request, _("The automatic assignment has started. You may leave this page: it goes on, "
                                    "and this page shows its result when you come back."))
    return redirect(f"{reverse('panel:assignments', args=[panel.pk])}#auto-assign")


@login_required
@require_GET
def panel_auto_assign_state(request, panel_id):
    """The automatic assignment's progress, polled by the assignments page (htmx) every two seconds: the
    status line and the progress bar or the result, swapped in place; once the job has finished, 286 tells
    htmx to stop polling. Without htmx (a link followed), the assignments page shows the same."""
    panel = panel_for_officer(request, panel_id)
    if not request.headers.get("HX-Request"):
        return redirect(f"{reverse('panel:assignments', args=[panel.pk])}#auto-assign")
    context = {"panel": panel, "auto": assignment_job_view(panel=panel, user=request.user, now=timezone.now())}
    return render(request, "reviews/officer/_auto_assign_swap.html", context,
                  status=200 if context["auto"].active else HTMX_STOP_POLLING)


# ---------------------------------------------------------------------------------------------------
# Reviewer pool
# ---------------------------------------------------------------------------------------------------

@login_required
@require_GET
def panel_pool(request, panel_id):
    panel = panel_for_officer(request, panel_id)
    return render(request, "reviews/officer/pool.html", _pool_context(panel, ReviewerAddForm()))


def _pool_context(panel, form):
    reviewers = reviewer_pool(panel).select_related("unit").annotate(
        load=Count("assignments", filter=Q(assignments__panel=panel, assignments__state__in=OPEN_ASSIGNMENT_STATES))
    ).order_by("-active", "user__email")
    return {"panel": panel, "tab": "pool", "reviewers": pool_caps_and_absences(panel, reviewers, timezone.now()),
            "form": form, "default_cap_form": CapForm(initial={"max_reviews": panel.default_max_reviews},
                                                      prefix="default"),
            "suggestions": open_suggestions(panel)}


@login_required
@require_POST
def panel_reviewer_add(request, panel_id):
    panel = panel_for_officer(request, panel_id)
    form = ReviewerAddForm(request.POST)
    if form.is_valid():
        try:
            result = pool_domain.reviewer_add(panel_id=panel.pk, user=request.user, now=timezone.now(), request=request,
                                         **form.cleaned_data)
        except ValidationError as error:
            form.add_error("unit_code" if error.code == "unit" else None, error)
        else:
            email = result.reviewer.user.email
            if result.user_created:
                messages.success(request, _("%(email)s is in the pool. An account was created and a mail sent to "
                                            "choose a password.") % {"email": email})
            elif result.reactivated:
                messages.success(request, _("%(email)s is back in the pool.") % {"email": email})
            else:
                messages.success(request, _("%(email)s is in the pool.") % {"email": email})
            return redirect("panel:pool", panel_id=panel.pk)
    return render(request, "reviews/officer/pool.html", _pool_context(panel, form), status=400)


@login_required
@require_POST
def panel_reviewer_deactivate(request, panel_id, reviewer_id):
    panel = panel_for_officer(request, panel_id)
    reviewer = get_object_or_404(reviewer_pool(panel), pk=reviewer_id)
    try:
        pool_domain.reviewer_deactivate(panel_id=panel.pk, reviewer_id=reviewer.pk, user=request.user, now=timezone.now())
    except ValidationError as error:
        refuse(request, error)
    else:
        messages.success(request, _("%(email)s is no longer in the pool; reassign their open reviews.") % {
            "email": reviewer.user.email})
    return redirect("panel:pool", panel_id=panel.pk)
