"""The PI's reminders before and at the call's closing (domain.md, notifications):

- D−14, D−7, D−1 (``Call.draft_reminder_days``): PIs with an unsubmitted draft, or with changes made
  after submitting, are told what still blocks submission;
- D−7 (``Call.letter_reminder_days``): PIs whose support letter is missing — this reminder replaces the
  draft reminder of the same day — and their partner, whose invitation link is sent again;
- closing: PIs whose draft was never submitted learn that the call closed without it.

Each schedule asks the database what is due now (one query per open call, whatever the number of
proposals), so a deadline moved in the admin moves its reminders; a step already sent is not repeated.
"""

import datetime as dt

from django.contrib.contenttypes.models import ContentType
from django.db.models import Exists, OuterRef, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from calls.domain import call_accepts_submissions, call_deadline
from calls.models import Call, CallState
from iea.notifications.kinds import (
    Due,
    Kind,
    Recipient,
    current_step,
    parse_offsets,
    register,
    register_occurrences,
    schedule,
    step_label,
)
from iea.notifications.models import Notification

from .domain import invitation_token, proposal_checklist
from .domain.mail import information_request_recipients
from .models import (
    InformationRequest,
    InformationRequestState,
    PartnerInvitation,
    Proposal,
    ProposalState,
    SupportLetter,
)

# A call closed longer ago than this gets no closing notice (a newly installed dispatcher stays quiet
# about old calls).
CLOSING_NOTICE_WINDOW = dt.timedelta(days=14)


def _unsubmitted() -> Q:
    return Q(state=ProposalState.DRAFT) | Q(state=ProposalState.SUBMITTED, has_unsubmitted_changes=True)


def _still_unsubmitted(proposal: Proposal) -> bool:
    return proposal.state == ProposalState.DRAFT or (
        proposal.state == ProposalState.SUBMITTED and proposal.has_unsubmitted_changes)


def _blockers(proposal: Proposal, now: dt.datetime) -> list:
    return [check for check in proposal_checklist(proposal, now=now) if not check.ok]


def _draft_context(proposal: Proposal, notification) -> dict:
    return {"proposal": proposal, "call": proposal.call, "deadline": call_deadline(proposal.call),
            "blockers": _blockers(proposal, timezone.now()), "resubmit": proposal.state == ProposalState.SUBMITTED,
            "url": reverse("proposals:edit", kwargs={"pk": proposal.pk})}


def _draft_skip(proposal: Proposal, notification, now: dt.datetime) -> str:
    if not _still_unsubmitted(proposal):
        return _("The proposal was submitted or withdrawn.")
    if not call_accepts_submissions(proposal.call, now=now):
        return _("The call no longer accepts submissions.")
    return ""


def _has_letter(proposal: Proposal) -> bool:
    """Whether the proposal has a support letter: ``has_letter`` when the query annotated it (the admin's list
    of many), else asked."""
    has_letter = getattr(proposal, "has_letter", None)
    return proposal.letters.exists() if has_letter is None else has_letter


def _letter_skip(proposal: Proposal, notification, now: dt.datetime) -> str:
    if _has_letter(proposal):
        return _("The support letter was uploaded.")
    return _draft_skip(proposal, notification, now)


def _letter_context(proposal: Proposal, notification) -> dict:
    now = timezone.now()
    invitation = proposal.invitations.filter(revoked_at__isnull=True).order_by("-created_at").first()
    return {**_draft_context(proposal, notification),
            "invitation": invitation, "invitation_active": invitation is not None and now < invitation.expires_at,
            "detail_url": reverse("proposals:detail", kwargs={"pk": proposal.pk})}


def _partner_context(invitation: PartnerInvitation, notification) -> dict:
    return {"invitation": invitation, "proposal": invitation.proposal,
            "deadline": call_deadline(invitation.proposal.call),
            "url": reverse("proposals:partner", kwargs={"token": invitation_token(invitation)})}


def _partner_skip(invitation: PartnerInvitation, notification, now: dt.datetime) -> str:
    if invitation.revoked_at is not None or now >= invitation.expires_at:
        return _("The invitation was revoked or has expired.")
    return _letter_skip(invitation.proposal, notification, now)


def _closed_skip(proposal: Proposal, notification, now: dt.datetime) -> str:
    if proposal.state != ProposalState.DRAFT or proposal.versions.exists():
        return _("The proposal was submitted or withdrawn.")
    if call_accepts_submissions(proposal.call, now=now):
        return _("The call accepts submissions again.")
    return ""


_PROPOSAL = {"model": Proposal, "select_related": ("pi", "call", "unit"),
             "prefetch_related": ("team", "budget_lines", "unit__secondary_institutes")}
register(Kind(name="draft_reminder", label=_("Reminder: proposal not submitted"), template="draft_reminder",
              context=_draft_context, skip=_draft_skip, **_PROPOSAL))
register(Kind(name="letter_reminder", label=_("Reminder: support letter missing"), template="letter_reminder",
              context=_letter_context, skip=_letter_skip, **_PROPOSAL))
register(Kind(name="partner_reminder", label=_("Reminder to the partner: support letter"),
              template="partner_reminder", model=PartnerInvitation,
              select_related=("proposal__pi", "proposal__call"), context=_partner_context, skip=_partner_skip))
register(Kind(name="call_closed_draft", label=_("Call closed, draft not submitted"), template="call_closed_draft",
              model=Proposal, select_related=("pi", "call"), skip=_closed_skip,
              context=lambda proposal, n: {"proposal": proposal, "call": proposal.call,
                                           "deadline": call_deadline(proposal.call),
                                           "url": reverse("proposals:detail", kwargs={"pk": proposal.pk})}))


def _open_calls(now: dt.datetime) -> list[Call]:
    return [call for call in Call.objects.filter(state=CallState.OPEN) if call_accepts_submissions(call, now=now)]


def _without_letter():
    return ~Exists(SupportLetter.objects.filter(proposal=OuterRef("pk")))


@schedule
def draft_reminders(now: dt.datetime):
    """D−14/−7/−1: every PI whose proposal is not submitted (or changed since), except — on the days of a
    letter reminder — those whose letter is missing: they get the letter reminder, which says the rest."""
    for call in _open_calls(now):
        step = current_step(parse_offsets(call.draft_reminder_days), call.closes_at, now)
        if step is None:
            continue
        offset, moment = step
        letter_offsets = parse_offsets(call.letter_reminder_days)
        proposals = Proposal.objects.filter(_unsubmitted(), call=call).select_related("pi")
        if offset in letter_offsets:
            proposals = proposals.exclude(Q(state=ProposalState.DRAFT) & _without_letter())
        # A letter reminder of this step or a later one stands for this reminder (it lists what else
        # blocks), also when the letter arrived after it or the deadline moved since.
        proposals = proposals.exclude(Exists(Notification.objects.filter(
            kind="letter_reminder", content_type=ContentType.objects.get_for_model(Proposal), object_id=OuterRef("pk"),
            occurrence__in=[step_label(o) for o in letter_offsets if o >= offset])))
        for proposal in proposals:
            yield Due(kind="draft_reminder", target=proposal, recipients=[Recipient.of(proposal.pi)],
                      occurrence=step_label(offset), due_at=moment)


@schedule
def letter_reminders(now: dt.datetime):
    """D−7: PIs of drafts without a support letter; their partner's current link is sent again."""
    for call in _open_calls(now):
        step = current_step(parse_offsets(call.letter_reminder_days), call.closes_at, now)
        if step is None:
            continue
        offset, moment = step
        occurrence = step_label(offset)
        proposals = list(Proposal.objects.filter(_without_letter(), call=call, state=ProposalState.DRAFT)
                         .select_related("pi"))
        for proposal in proposals:
            yield Due(kind="letter_reminder", target=proposal, recipients=[Recipient.of(proposal.pi)],
                      occurrence=occurrence, due_at=moment)
        invitations = PartnerInvitation.objects.filter(
            proposal__in=[p.pk for p in proposals], revoked_at__isnull=True, expires_at__gt=now)
        for invitation in invitations:
            yield Due(kind="partner_reminder", target=invitation, occurrence=occurrence, due_at=moment,
                      recipients=[Recipient(email=invitation.email, language=invitation.language)])


def proposal_reminder_dues(proposals, now: dt.datetime) -> list[Due]:
    """The reminders of these proposals, sent now by hand from the proposals list (``remind_now`` sets the
    occurrence): a draft without its support letter gets the letter reminder (which lists what else blocks),
    any other proposal the draft reminder; a proposal already submitted or withdrawn is skipped by its kind.
    ``proposals`` carry ``has_letter`` (the admin annotates it) or ask the database one by one."""
    dues = []
    for proposal in proposals:
        kind = ("letter_reminder" if proposal.state == ProposalState.DRAFT and not _has_letter(proposal)
                else "draft_reminder")
        dues.append(Due(kind=kind, target=proposal, recipients=[Recipient.of(proposal.pi)], occurrence="",
                        due_at=now))
    return dues


@schedule
def closing_notices(now: dt.datetime):
    """At closing: PIs whose draft was never submitted."""
    calls = Call.objects.exclude(state__in=[CallState.DRAFT, CallState.PUBLISHED]).filter(
        closes_at__lte=now, closes_at__gt=now - CLOSING_NOTICE_WINDOW - dt.timedelta(days=1))
    for call in calls:
        deadline = call_deadline(call)
        if not deadline <= now < deadline + CLOSING_NOTICE_WINDOW or call_accepts_submissions(call, now=now):
            continue
        never_submitted = Proposal.objects.filter(call=call, state=ProposalState.DRAFT, versions__isnull=True)
        for proposal in never_submitted.select_related("pi"):
            yield Due(kind="call_closed_draft", target=proposal, recipients=[Recipient.of(proposal.pi)],
                      occurrence="closed", due_at=deadline)


register_occurrences({"closed": _("at the closing of the call")})


# Two days before the deadline of an open request for information, its PI and co-applicants are reminded (#21).
INFORMATION_REMINDER = dt.timedelta(days=2)


@schedule
def information_request_reminders(now: dt.datetime):
    """D−2 before the deadline of a request for information still open: the PI and the co-applicants are
    reminded of what is asked (the kind skips it if the answer came, or staff cancelled, before it went out)."""
    requests = InformationRequest.objects.filter(
        state=InformationRequestState.OPEN, deadline__gt=now, deadline__lte=now + INFORMATION_REMINDER,
        proposal__state=ProposalState.SUBMITTED,
    ).select_related("proposal__pi")
    for request in requests:
        yield Due(kind="information_request_reminder", target=request, occurrence=step_label(-2),
                  due_at=request.deadline - INFORMATION_REMINDER,
                  recipients=information_request_recipients(request.proposal))
