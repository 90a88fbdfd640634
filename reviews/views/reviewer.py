"""The reviewer's pages: the list of assignments, the invitation, the proposal as submitted, the review.

Access is decided by ``reviews.rules`` only: an assignment is found through ``assignments_for`` (open and
not in conflict), and the proposal, its letter and the review need ``is_reviewing`` (accepted, not in
conflict). Anything else is a 404, so a proposal's existence is not revealed. The rules are asked on
every request: declaring a conflict removes access on the next one. Every page needs two-factor
authentication (``iea.mfa``). Changes go through ``reviews.domain``; no view decides a rule itself.
"""

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import BooleanField, Case, Exists, F, OuterRef, Prefetch, Subquery, When
from django.db.models.fields.json import KT
from django.http import FileResponse, Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from iea import formats
from iea.autosave import conflict_context, requested_lock_version
from iea.http import stored_file_download
from proposals.models import ProposalVersion

from ..domain import scoring
from ..domain.assignment import assignment_closed_reason, assignment_respond
from ..domain.bids import bidding_open_for
from ..domain.conflicts import conflict_declare
from ..domain.offline import offline_bundle_build
from ..domain.outcome import outcomes_by_assignment
from ..forms.reviewer import ConflictForm, DeclineForm, ReviewForm
from ..models import AssignmentState, Conflict, Review, ReviewState, Score
from ..rules import (
    assignments_for,
    assignments_listed_for,
    can_read_other_reviews,
    is_in_a_pool,
    is_reviewer,
    is_reviewing,
    offline_assignments_for,
)


class _Answered(Exception):
    """Another page answers the request: the explained page of a closed assignment (see ``_explained``)."""

    def __init__(self, response):
        super().__init__()
        self.response = response


def _explained(view):
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except _Answered as answered:
            return answered.response
    return wrapper


def _closed_page(request, pk):
    closed = assignment_closed_reason(user=request.user, assignment_id=pk)
    if closed is None:
        raise Http404
    return TemplateResponse(request, "reviews/reviewer/closed.html", {
        "closed": closed, "assignment": closed.assignment, "proposal": closed.assignment.proposal,
    }, status=410)


def _assignment_for(request, pk, *, reviewing=False, explain=True):
    """The user's open, non-conflicted assignment; with ``reviewing`` also accepted (``is_reviewing``).
    An assignment of theirs that is closed is explained (``explain``); anything else is a 404."""
    queryset = assignments_for(request.user).select_related(
        "reviewer", "panel__institute", "proposal__call", "proposal__pi"
    )
    assignment = queryset.filter(pk=pk).first()
    if assignment is None:
        if not explain:
            raise Http404
        raise _Answered(_closed_page(request, pk))
    if reviewing and not is_reviewing(request.user, assignment.proposal):
        raise Http404
    return assignment


def _material(assignment):
    material = scoring.review_material(assignment.proposal)
    if material is None:
        raise Http404
    return material


def _refuse(request, error: ValidationError):
    for message in error.messages:
        messages.error(request, message)


def _submitted(field: str):
    """The value of one field of the last submitted version, as a subquery on an assignment."""
    return Subquery(
        ProposalVersion.objects.filter(proposal_id=OuterRef("proposal_id"))
        .order_by("-number")
        .annotate(value=KT(f"content__{field}"))
        .values("value")[:1]
    )


# --- The list ---------------------------------------------------------------------------------------------


# A busy reviewer accumulates assignments call after call: the list shows them a page at a time.
ASSIGNMENTS_PER_PAGE = 25


def _settled():
    """An assignment that asks nothing more of the reviewer: closed by the decision, or its review submitted."""
    return Case(When(state=AssignmentState.CLOSED, then=True), When(review__state=ReviewState.SUBMITTED, then=True),
                default=False, output_field=BooleanField())


@login_required
@require_GET
def assignments(request):
    """My reviews: open assignments with the proposal as submitted, the due date and where each stands. What is
    due comes first, the earliest due date first; then what asks nothing more (submitted, closed), the latest
    first, so the first page is the work to do however long the reviewer's history. Once the decisions are
    mailed, and when the call says so, a reviewed proposal shows its outcome and the panel's consensus
    (``reviews.domain.outcome``). Eight queries, whatever the length of the list."""
    now = timezone.now()
    listed = (
        assignments_listed_for(request.user)
        .select_related("panel__institute", "proposal", "review")
        .annotate(submitted_title=_submitted("title"), submitted_acronym=_submitted("acronym"), settled=_settled())
        # The list shows titles and states: the long texts stay in the database (hundreds of rows for a
        # busy reviewer; docs/benchmarks.md).
        .defer("proposal__abstract", "proposal__activities", "proposal__ethics_statement",
               "review__comment_for_pi", "review__confidential_comment", "decline_reason")
        .order_by("settled", Case(When(settled=False, then=F("due_at"))).asc(nulls_last=True),
                  F("due_at").desc(), "pk")
    )
    page = Paginator(listed, ASSIGNMENTS_PER_PAGE).get_page(request.GET.get("page"))
    rows = list(page.object_list)
    outcomes = outcomes_by_assignment(user=request.user, assignment_ids=[row.pk for row in rows])
    for row in rows:
        row.own_review = getattr(row, "review", None)
        row.closed = row.state == AssignmentState.CLOSED
        # Still asked of the reviewer: invited, or accepted with the review not yet submitted.
        row.submitted = row.own_review is not None and row.own_review.state == ReviewState.SUBMITTED
        row.asked = row.state in (AssignmentState.INVITED, AssignmentState.ACCEPTED) and not row.submitted
        row.overdue = row.asked and row.due_at <= now
        row.outcome = outcomes.get(row.pk)
    return TemplateResponse(request, "reviews/reviewer/assignments.html", {
        "assignments": rows, "page": page, "now": now, "any_outcome": bool(outcomes),
        "offline_count": offline_assignments_for(request.user).count(), "bidding": bidding_open_for(request.user),
        "in_pool": is_in_a_pool(request.user),
    })


# --- Offline reading -------------------------------------------------------------------------------------


@login_required
@require_GET
def download_all(request):
    """The proposals the reviewer reviews, as one ZIP for offline reading (``reviews.domain.offline``): the
    list is computed now, by the rule of online reading. A reviewer with nothing to take away gets a page
    saying so, never an empty ZIP; someone who is not a reviewer gets a 404."""
    if not is_reviewer(request.user):
        raise Http404
    bundle = offline_bundle_build(user=request.user, now=timezone.now())
    if bundle is None:
        return TemplateResponse(request, "reviews/reviewer/offline_empty.html", {})
    response = FileResponse(bundle.file, as_attachment=True, filename=bundle.filename, content_type="application/zip")
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


# --- The invitation ---------------------------------------------------------------------------------------


def _invitation_page(request, assignment, *, decline_form=None, conflict_form=None, status=200):
    return TemplateResponse(request, "reviews/reviewer/invitation.html", {
        "assignment": assignment,
        "proposal": assignment.proposal,
        "material": _material(assignment),
        "decline_form": decline_form or DeclineForm(own_email=request.user.email),
        "conflict_form": conflict_form or ConflictForm(initial={"page": "invitation"}),
        "now": timezone.now(),
    }, status=status)


@login_required
@require_GET
@_explained
def invitation(request, pk):
    """What an invited reviewer may see: title, abstract, keywords and the teams, for the conflict check."""
    return _invitation_page(request, _assignment_for(request, pk))


@login_required
@require_POST
@_explained
def accept(request, pk):
    assignment = _assignment_for(request, pk)
    try:
        assignment_respond(assignment_id=assignment.pk, user=request.user, accept=True, now=timezone.now())
    except ValidationError as error:
        _refuse(request, error)
        return redirect("reviewer:invitation", pk=assignment.pk)
    messages.success(request, _("Thank you: you accepted to review %(reference)s.") % {
        "reference": assignment.proposal.reference})
    return redirect("reviewer:review", pk=assignment.pk)


@login_required
@require_POST
@_explained
def decline(request, pk):
    assignment = _assignment_for(request, pk)
    form = DeclineForm(request.POST, own_email=request.user.email)
    if not form.is_valid():
        messages.error(request, _("Not declined: say briefly why you decline.") if "reason" in form.errors
                       else _("Not declined: check the colleague you suggest."))
        return _invitation_page(request, assignment, decline_form=form, status=400)
    try:
        assignment_respond(assignment_id=assignment.pk, user=request.user, accept=False,
                           reason=form.cleaned_data["reason"], now=timezone.now(), suggestion=form.suggestion())
    except ValidationError as error:
        _refuse(request, error)
        return redirect("reviewer:invitation", pk=assignment.pk)
    messages.success(request, _("You declined to review %(reference)s. The officer has your reason.") % {
        "reference": assignment.proposal.reference})
    return redirect("reviewer:assignments")


@login_required
@require_POST
@_explained
def declare_conflict(request, pk):
    """The reviewer declares a conflict of interest, from the invitation, the proposal or the review page:
    access to the proposal ends with this request. Without an explanation the page comes back with the
    form, what the reviewer had saved untouched."""
    assignment = _assignment_for(request, pk)
    form = ConflictForm(request.POST)
    page = request.POST.get("conflict-page", "")
    reviewing = assignment.state == AssignmentState.ACCEPTED and is_reviewing(request.user, assignment.proposal)
    if page not in ("proposal", "review") or not reviewing:
        page = "invitation"
    if not form.is_valid():
        messages.error(request, _("No conflict declared: explain your conflict of interest."))
        if page == "proposal":
            return _proposal_page(request, assignment, conflict_form=form, status=400)
        if page == "review":
            review = _open(request, assignment)
            return _review_page(request, assignment, review, _fresh_form(review), conflict_form=form, status=400)
        return _invitation_page(request, assignment, conflict_form=form, status=400)
    try:
        conflict_declare(proposal_id=assignment.proposal_id, reviewer=assignment.reviewer, user=request.user,
                         reason=form.cleaned_data["reason"], now=timezone.now())
    except ValidationError as error:
        _refuse(request, error)
        return redirect(f"reviewer:{page}", pk=assignment.pk)
    messages.success(request, _("You declared a conflict of interest with %(reference)s. The proposal is no longer "
                                "available to you, and the officer will find another reviewer.") % {
        "reference": assignment.proposal.reference})
    return redirect("reviewer:assignments")


# --- The proposal as submitted ----------------------------------------------------------------------------


@login_required
@require_GET
@_explained
def proposal(request, pk):
    """The whole proposal as last submitted (the frozen version), for an accepted assignment."""
    return _proposal_page(request, _assignment_for(request, pk, reviewing=True))


def _proposal_page(request, assignment, *, conflict_form=None, status=200):
    return TemplateResponse(request, "reviews/reviewer/proposal.html", {
        "assignment": assignment, "proposal": assignment.proposal, "material": _material(assignment),
        "conflict_form": conflict_form or ConflictForm(initial={"page": "proposal"}),
    }, status=status)


@login_required
@require_GET
@_explained
def letter(request, pk):
    """The support letter of the submitted version, as an attachment (never rendered inline)."""
    assignment = _assignment_for(request, pk, reviewing=True)
    version = _material(assignment).version
    return stored_file_download(version.letter.file, content_type="application/pdf",
                                filename=f"support-letter-{assignment.proposal.reference}.pdf")


# --- The review -------------------------------------------------------------------------------------------


def _open(request, assignment):
    try:
        review = scoring.review_open(assignment_id=assignment.pk, user=request.user, now=timezone.now())
    except ValidationError:
        raise Http404 from None
    return review


def _scores(review):
    return list(review.scores.select_related("criterion").order_by("criterion__position"))


def _fresh_form(review):
    return ReviewForm(review=review, scores=_scores(review))


def _bound_form(request, review):
    return ReviewForm(request.POST, review=review, scores=_scores(review))


def _other_reviews(request, assignment, review):
    """The other submitted reviews of the proposal, by reviewers not in conflict with it — only when
    ``can_read_other_reviews`` holds (for a reviewer: after submitting their own)."""
    if not can_read_other_reviews(request.user, assignment.proposal):
        return None
    return list(
        Review.objects.filter(proposal_id=assignment.proposal_id, state=ReviewState.SUBMITTED)
        .exclude(pk=review.pk)
        .exclude(Exists(Conflict.objects.filter(proposal_id=OuterRef("proposal_id"), reviewer_id=OuterRef("reviewer_id"))))
        .select_related("reviewer__user")
        .prefetch_related(Prefetch("scores", Score.objects.select_related("criterion").order_by("criterion__position")))
        .order_by("submitted_at", "pk")
    )


def _review_page(request, assignment, review, form, *, conflict=None, conflict_form=None, status=200):
    submitted = review.state == ReviewState.SUBMITTED
    return TemplateResponse(request, "reviews/reviewer/review.html", {
        "assignment": assignment,
        "proposal": assignment.proposal,
        "material": _material(assignment),
        "review": review,
        "form": None if submitted else form,
        "scores": _scores(review) if submitted else None,
        "missing": [] if submitted else scoring.review_missing(review),
        "others": _other_reviews(request, assignment, review) if submitted else None,
        "conflict": conflict,
        "conflict_form": conflict_form or ConflictForm(initial={"page": "review"}),
        "now": timezone.now(),
    }, status=status)


def _save(request, review, form, *, now):
    """Run the domain save for a valid form. Returns (result, error)."""
    try:
        result = scoring.review_save_draft(
            review_id=review.pk, user=request.user, data=form.draft_data(), scores=form.score_data(),
            lock_version=requested_lock_version(request, form), now=now,
        )
    except ValidationError as error:
        return None, error
    return result, None


def _conflict(result, form):
    labels = [str(form.fields[name].label) for name in result.conflicting_fields]
    by_id = {score.criterion_id: score.criterion for score in form.scores}
    labels += [str(by_id[cid].label) for cid in result.conflicting_criteria if cid in by_id]
    return conflict_context(result, labels)


@login_required
@_explained
def review(request, pk):
    """The review form. Works without JavaScript (Save and Submit post here); with htmx it also autosaves.
    Once submitted: read-only, with the other reviews of the proposal."""
    assignment = _assignment_for(request, pk, reviewing=True)
    review = _open(request, assignment)
    if request.method != "POST":
        return _review_page(request, assignment, review, _fresh_form(review))
    now = timezone.now()
    if review.state == ReviewState.SUBMITTED:
        messages.info(request, _("This review is already submitted."))
        return redirect("reviewer:review", pk=assignment.pk)
    form = _bound_form(request, review)
    if not form.is_valid():
        messages.error(request, _("Not saved: correct the fields marked below."))
        return _review_page(request, assignment, review, form, status=400)
    result, error = _save(request, review, form, now=now)
    if error is not None:
        _refuse(request, error)
        return redirect("reviewer:review", pk=assignment.pk)
    if not result.saved:
        return _review_page(request, assignment, result.record, form, conflict=_conflict(result, form), status=409)
    if request.POST.get("action") != "submit":
        messages.success(request, _("Saved at %(time)s.") % {
            "time": formats.time(result.record.updated_at)})
        return redirect("reviewer:review", pk=assignment.pk)
    try:
        scoring.review_submit(review_id=review.pk, user=request.user, now=now)
    except ValidationError as error:
        messages.error(request, _("Saved, but not submitted yet. Still missing:"))
        _refuse(request, error)
        return redirect("reviewer:review", pk=assignment.pk)
    messages.success(request, _("Your review is submitted. Thank you."))
    return redirect("reviewer:review", pk=assignment.pk)


@login_required
@require_POST
def review_autosave(request, pk):
    """htmx endpoint: saves the form and answers with out-of-band fragments only (indicator, field errors,
    lock version, conflict banner, what is missing), so what the user is typing is never replaced."""
    assignment = _assignment_for(request, pk, reviewing=True, explain=False)
    review = _open(request, assignment)
    now = timezone.now()
    form = _bound_form(request, review)
    context = {"form": form, "review": review, "assignment": assignment, "conflict": None, "error": None,
               "saved_at": None}
    status = 200
    if form.is_valid():
        result, error = _save(request, review, form, now=now)
        if error is not None:
            context["error"] = " ".join(error.messages)
            status = 409
        elif result.saved:
            context["saved_at"] = result.record.updated_at
        else:
            context["conflict"] = _conflict(result, form)
            status = 409
    else:
        context["error"] = _("Not saved: correct the fields marked in red.")
        status = 400
    review.refresh_from_db()
    context.update(
        review=review,
        missing=scoring.review_missing(review),
        field_names=[name for name in form.fields if name != "lock_version"],
    )
    # htmx ignores the body of error statuses by default; the client swaps 4xx too (see static/js/app.js).
    return TemplateResponse(request, "reviews/reviewer/_autosave.html", context, status=status)

