"""The PI's reading pages: the dashboard, a proposal, and its private downloads."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Exists, OuterRef
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from calls.domain import call_accepts_submissions, call_deadline
from calls.models import Call, CallState
from iea.http import private_download, stored_file_download

from .. import domain
from ..models import ProposalState, ProposalVersion, SupportLetter
from ..receipts import receipt_filename, render_receipt
from ..rules import can_edit_proposal, visible_proposals
from .common import _PAGE_RELATIONS, _proposal_for, _with_content


@login_required
@require_GET
def dashboard(request):
    """The PI's proposals with their state, the time left and the next action; the calls they can apply to."""
    now = timezone.now()
    proposals = list(
        visible_proposals(request.user)
        .filter(pi=request.user)
        .select_related("call", "decision")
        .annotate(has_letter=Exists(SupportLetter.objects.filter(proposal=OuterRef("pk"))))
        .order_by("-call__year", "-updated_at")
    )
    for proposal in proposals:
        proposal.deadline = call_deadline(proposal.call)
        proposal.editable = domain.proposal_editable(proposal, now=now)
        proposal.next_action = _next_action(proposal)
    applied = {p.call_id for p in proposals if p.state != ProposalState.WITHDRAWN}
    open_calls = [
        c for c in Call.objects.filter(state=CallState.OPEN, opens_at__lte=now, closes_at__gte=now - timezone.timedelta(days=1))
        if call_accepts_submissions(c, now=now) and c.pk not in applied
    ]
    for call in open_calls:
        call.deadline = call_deadline(call)
    return render(request, "proposals/dashboard.html", {"proposals": proposals, "open_calls": open_calls, "now": now})


def _next_action(proposal) -> str:
    if proposal.state == ProposalState.DRAFT:
        if not proposal.editable:
            return _("The call closed before this draft was submitted.")
        if not proposal.has_letter:
            return _("Complete the draft and get the partner's support letter, then submit.")
        return _("Complete the draft and submit it before the deadline.")
    if proposal.state == ProposalState.SUBMITTED:
        if proposal.has_unsubmitted_changes and proposal.editable:
            return _("You changed the proposal since submitting: submit again so the changes count.")
        if proposal.editable:
            return _("Submitted. You may still change it and submit again until the deadline.")
        return _("Submitted. The institute's review follows the closing of the call.")
    if proposal.state == ProposalState.WITHDRAWN:
        return _("Withdrawn.")
    if proposal.state == ProposalState.INELIGIBLE:
        return _("Found ineligible at screening.")
    if proposal.state == ProposalState.FUNDED:
        return _("Funded: open it for the award, its tranches and annual reports.")
    return _("Nothing to do now; you will be told of the outcome.")


@login_required
@require_GET
def letter_download(request, pk, letter_id):
    proposal = _proposal_for(request, pk)
    letter = get_object_or_404(SupportLetter, pk=letter_id, proposal=proposal)
    return stored_file_download(letter.file, filename=f"support-letter-{proposal.reference}.pdf",
                                content_type="application/pdf")


@login_required
@require_GET
def detail(request, pk):
    # The decision in the same query: the page asks whether it was announced (``_decision_told``).
    proposal = _with_content(_proposal_for(request, pk, relations=(*_PAGE_RELATIONS, "decision")))
    now = timezone.now()
    letter = domain.current_letter(proposal)
    versions = list(proposal.versions.select_related("letter").order_by("-number"))
    decision = _decision_told(proposal)
    in_submission = domain.proposal_in_submission(proposal, now=now)
    return render(request, "proposals/detail.html", {
        "in_submission": in_submission,
        "award": _award_of(proposal) if decision is not None or proposal.state == ProposalState.FUNDED else None,
        "proposal": proposal,
        "call": proposal.call,
        "team": list(proposal.team.all()),
        "budget_lines": list(proposal.budget_lines.all()),
        "budget_total": domain.proposal_budget_total(proposal),
        "letter": letter,
        "versions": versions,
        "decision": decision,
        "checklist": domain.proposal_checklist(proposal, now=now, letter=letter) if in_submission else [],
        "editable": can_edit_proposal(request.user, proposal) and domain.proposal_editable(proposal, now=now),
        "deadline": call_deadline(proposal.call),
        "now": now,
    })


def _decision_told(proposal):
    """The decision on the proposal (reviews.Decision, through its reverse relation: proposals does not
    import reviews) once its mail went out, else None: the PI learns the decision from that mail."""
    try:
        decision = proposal.decision
    except ObjectDoesNotExist:
        return None
    return decision if decision.notified_at is not None else None


def _award_of(proposal):
    """The proposal's award (funding.Award, through its reverse relation: proposals does not import
    funding) with its reports in the order they fall due, or None."""
    try:
        award = proposal.award
    except ObjectDoesNotExist:
        return None
    order = {"year1": 0, "final": 1}
    award.report_list = sorted(award.reports.all(), key=lambda report: order.get(report.period, 2))
    return award


@login_required
@require_GET
def receipt(request, pk, number):
    proposal = _proposal_for(request, pk)
    version = get_object_or_404(ProposalVersion.objects.select_related("letter", "proposal__call"), proposal=proposal, number=number)
    return private_download(render_receipt(version), filename=receipt_filename(version), content_type="application/pdf")


# --- The partner's pages, reached through the invitation link ------------------------------------------------
