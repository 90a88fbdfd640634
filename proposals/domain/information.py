"""Requests for information at screening (#21, domain.md "Request for information"): the PI's side.

Staff ask (``reviews.domain.information_requests``); while the request is open and its deadline has not
passed, the PI and the co-applicants change the items it names, and only those (``common._now_editable``);
the PI then sends the answer, which freezes a new version with its receipt, as a submission does. Screening
resumes with that version. Past the deadline the request is expired, decided at request time (``state_at``).
"""

import datetime as dt

from django.db import transaction
from django.db.models import Prefetch, prefetch_related_objects
from django.utils.translation import gettext as _

from iea import formats
from iea.audit.domain import audit_record

from ..models import (
    RFI_BUDGET,
    RFI_LETTER,
    RFI_TEAM,
    InformationRequest,
    InformationRequestState,
    Proposal,
    ProposalState,
    ProposalVersion,
)
from .common import ProposalError, _lock, _require_pi, information_item_label
from .drafts import DRAFT_FIELDS
from .mail import notify_submitted
from .partner import current_letter
from .submission import content_hash, freeze_version, proposal_snapshot

INFORMATION_ITEMS = [RFI_LETTER, RFI_TEAM, RFI_BUDGET, *DRAFT_FIELDS]


def information_item_choices() -> list[tuple[str, str]]:
    """What a request for information may let change, in the reader's language, in the editor's order."""
    return [(item, information_item_label(item)) for item in INFORMATION_ITEMS]


def information_request_refusal(request: InformationRequest, *, now: dt.datetime) -> str:
    """Why a request no longer lets anything change ("" while it does), in the PI's words."""
    state = request.state_at(now)
    if state == InformationRequestState.EXPIRED:
        return _("The deadline of the request for information passed on %(deadline)s (Paris time); the proposal "
                 "can no longer be changed.") % {"deadline": formats.datetime(request.deadline, zone=False)}
    if state == InformationRequestState.CANCELLED:
        return _("The directorate cancelled this request for information; the proposal can no longer be changed.")
    if state == InformationRequestState.ANSWERED:
        return _("This request for information was already answered (version %(number)s).") % {
            "number": request.version.number if request.version_id else "—"}
    return ""


def information_request_lock(request_id: int) -> tuple[Proposal, InformationRequest]:
    """Lock the proposal's row, then the request's: the order every change of a request takes (the PI's answer,
    staff's cancel, a new request), so two of them wait for each other instead of both acting."""
    proposal_id = InformationRequest.objects.values_list("proposal_id", flat=True).get(pk=request_id)
    proposal = _lock(proposal_id, related=("unit__main_institute", "evaluating_institute", "pi"))
    request = InformationRequest.objects.select_for_update(of=("self",)).select_related("version").get(pk=request_id)
    return proposal, request


def information_answer(*, request_id: int, user, now: dt.datetime) -> ProposalVersion:
    """The PI sends the answer to a request for information: the proposal as it stands, with the changes the
    request allowed, is frozen into a new version (the same content and hashing as ``proposal_submit``) with its
    receipt by e-mail, and the request is answered. Only the PI sends it (co-applicants edit, the PI submits),
    before the request's deadline, while staff have not cancelled it; the proposal row and the request are locked,
    so an answer and a cancel racing each other cannot both win. Nothing changed since the last version: refused,
    there is nothing to send."""
    with transaction.atomic():
        proposal, request = information_request_lock(request_id)
        _require_pi(proposal, user, refusal=_("Only the PI can send the answer to the request for information."))
        refusal = information_request_refusal(request, now=now)
        if refusal:
            raise ProposalError(refusal, code=request.state_at(now))
        if proposal.state != ProposalState.SUBMITTED:
            raise ProposalError(_("This proposal is %(state)s and can no longer be changed.")
                                % {"state": proposal.get_state_display().lower()}, code="not_editable")
        last = proposal.versions.order_by("-number").first()
        letter = current_letter(proposal)
        if letter is None:
            raise ProposalError(_("The proposal has no support letter: upload it before sending the answer."),
                                code="letter")
        if last is not None and content_hash(proposal_snapshot(proposal, letter)) == last.content_sha256:
            raise ProposalError(
                _("Nothing changed since version %(number)s: change what was asked, then send the answer.")
                % {"number": last.number}, code="unchanged")
        before = proposal.state
        version = freeze_version(proposal, user=user, letter=letter, last=last, now=now)
        request.state = InformationRequestState.ANSWERED
        request.closed_at, request.closed_by, request.version = now, user, version
        request.save(update_fields=["state", "closed_at", "closed_by", "version"])
        audit_record(
            actor=user, target=proposal, action="proposal.rfi_answer", now=now, from_state=before,
            to_state=proposal.state,
            data={"request": request.pk, "version": version.number, "content_sha256": version.content_sha256,
                  "letter_sha256": letter.sha256},
        )
        notify_submitted(version=version, now=now)
    return version


def information_requests_of(proposal: Proposal) -> list[InformationRequest]:
    """The proposal's requests for information, newest first, with who asked and the version of each answer; kept
    on the proposal as its prefetch, so ``open_information_request`` asks no more."""
    prefetch_related_objects([proposal], Prefetch(
        "information_requests",
        queryset=InformationRequest.objects.select_related("asked_by", "closed_by", "version").order_by("-asked_at", "-id"),
    ))
    return list(proposal.information_requests.all())
