"""The PI's reading pages: the dashboard, a proposal, and its private downloads."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Exists, OuterRef, Q
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from calls.domain import call_accepts_submissions, call_deadline
from calls.models import Call, CallState
from iea.http import private_download, stored_file_download

from .. import domain
from ..forms import CoApplicantForm
from ..models import CoApplicantRole, Proposal, ProposalState, ProposalVersion, SupportLetter, ThreadTopic
from ..receipts import receipt_filename, render_receipt
from ..rules import (
    active_coapplications,
    can_edit_proposal,
    can_submit_proposal,
    is_proposal_pi,
    visible_proposals,
)
from ..threads import unread_counts
from .common import _PAGE_RELATIONS, _proposal_for, _with_content


@login_required
@require_GET
def dashboard(request):
    """The PI's proposals with their state, the time left and the next action; the calls they can apply to."""
    now = timezone.now()
    # The PI's own proposals and those they prepare as a co-applicant (#21: marked, with the PI's name).
    proposals = list(
        visible_proposals(request.user)
        .filter(Q(pi=request.user) | Q(pk__in=active_coapplications(request.user).values("proposal_id")))
        .select_related("call", "decision", "pi")
        .annotate(
            has_letter=Exists(SupportLetter.objects.filter(proposal=OuterRef("pk"))),
            edits_as_coapplicant=Exists(active_coapplications(request.user).filter(
                proposal=OuterRef("pk"), role=CoApplicantRole.EDITOR)),
        )
        .order_by("-call__year", "-updated_at")
    )
    unread = unread_counts(request.user, proposal_ids=[p.pk for p in proposals], topic=ThreadTopic.PROPOSAL)
    for proposal in proposals:
        proposal.unread_messages = unread.get((proposal.pk, ThreadTopic.PROPOSAL), 0)
        proposal.deadline = call_deadline(proposal.call)
        proposal.editable = domain.proposal_editable(proposal, now=now)
        proposal.as_coapplicant = proposal.pi_id != request.user.pk
        proposal.editable = proposal.editable and (not proposal.as_coapplicant or proposal.edits_as_coapplicant)
        proposal.next_action = _next_action(proposal)
    applied = {p.call_id for p in proposals if p.state != ProposalState.WITHDRAWN and not p.as_coapplicant}
    open_calls = [call for call in _open_calls(now=now) if call.pk not in applied]
    for call in open_calls:
        call.deadline = call_deadline(call)
    for proposal in proposals:  # no query: each reads its call and decision, loaded above
        proposal.restart_calls = _restart_calls(request.user, proposal, open_calls, now=now)
    return render(request, "proposals/dashboard.html", {"proposals": proposals, "open_calls": open_calls, "now": now})


def _open_calls(*, now):
    return [
        c for c in Call.objects.filter(state=CallState.OPEN, opens_at__lte=now, closes_at__gte=now - timezone.timedelta(days=1))
        if call_accepts_submissions(c, now=now)
    ]


def _restart_calls(user, proposal, open_calls, *, now) -> list:
    """The open calls in which ``user`` may start a new proposal from ``proposal`` (``domain.restart_refusal``)."""
    return [call for call in open_calls if not domain.restart_refusal(proposal, call=call, user=user, now=now)]


def _restart_targets(user, proposal, *, now) -> list:
    """For the proposal's page: the open calls the PI has not applied to yet in which they may start a new
    proposal from this one. Two queries, and only for a proposal whose outcome allows it."""
    if (proposal.pi_id != user.pk or proposal.applicant_state not in domain.RESTARTABLE_STATES
            or call_accepts_submissions(proposal.call, now=now)):  # its own call still open: no query
        return []
    applied = set(
        Proposal.objects.filter(pi=user, call__state=CallState.OPEN).exclude(state=ProposalState.WITHDRAWN)
        .values_list("call_id", flat=True)
    )
    return _restart_calls(user, proposal, [c for c in _open_calls(now=now) if c.pk not in applied], now=now)


def _next_action(proposal) -> str:
    if proposal.as_coapplicant and proposal.state in (ProposalState.DRAFT, ProposalState.SUBMITTED):
        return (_("Prepare the draft with the PI, who submits it.") if proposal.editable
                else _("You follow this proposal; the PI prepares and submits it."))
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
    if proposal.applicant_state == ProposalState.REJECTED:
        return _("Not selected: its evaluation summary is on its page.")
    if proposal.applicant_state == ProposalState.RESERVE:
        return _("On the reserve list: you will be told if it is funded.")
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
    editable = can_edit_proposal(request.user, proposal) and domain.proposal_editable(proposal, now=now)
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
        "editable": editable,
        "can_submit": editable and can_submit_proposal(request.user, proposal),
        "information_requests": domain.information_requests_of(proposal),  # first: the one below reads them
        "information_request": domain.information_request_in_force(proposal, now=now),
        "is_pi": is_proposal_pi(request.user, proposal),
        "deadline": call_deadline(proposal.call),
        "restart_calls": _restart_targets(request.user, proposal, now=now),
        "now": now,
        **_coapplicants_context(request, proposal, editable=editable),
        # The conversation's rule is the review's (the panel's officer takes part): asked by name, not imported.
        "may_converse": request.user.has_perm("proposals.converse", proposal),
        "conversation_unread": unread_counts(request.user, proposal_ids=[proposal.pk],
                                             topic=ThreadTopic.PROPOSAL).get((proposal.pk, ThreadTopic.PROPOSAL), 0),
    })


def _coapplicants_context(request, proposal, *, editable: bool) -> dict:
    """The co-applicants section (#21): who prepares the proposal with the PI, the PI's invitation form while
    it can be changed, each person's own "leave" button; and the history of who changed what."""
    coapplicants = domain.proposal_coapplicants(proposal)
    is_pi = is_proposal_pi(request.user, proposal)
    return {
        "coapplicants": coapplicants,
        "is_pi": is_pi,
        "coapplicant_form": CoApplicantForm() if is_pi and editable else None,
        "history": domain.proposal_history(proposal),
    }


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
