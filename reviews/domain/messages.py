"""The conversations of #21: a thread per proposal and topic (the proposal, or its award) between the
applicants (the PI and the co-applicants who edit with them) and the directorate or the officer of the
proposal's panel.

Here rather than in ``proposals``: the officer is the review's (``reviews.rules.may_converse``). Each new
message is audited on the proposal or the award (so it shows in their history) and mailed to the other
side: the applicants' message to the panel's officers (staff read every open conversation in the back
office, where those waiting for an answer are filtered), the other side's to the PI and co-applicants.
Reviewers and unit managers never take part.
"""

import datetime as dt

from django.core.exceptions import ObjectDoesNotExist
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils.translation import gettext as _

from iea.audit.domain import audit_record
from iea.errors import DomainError
from iea.i18n import written_language
from iea.roles import is_directorate
from proposals.letters import CheckedPdf
from proposals.models import (
    CoApplicantRole,
    Message,
    MessageSide,
    MessageThread,
    Proposal,
    ThreadRead,
    ThreadTopic,
)
from proposals.rules import is_proposal_applicant

from ..models import Conflict
from ..rules import may_converse, panel_of
from .mail import notify_message

MESSAGE_MAX_CHARS = 10_000


class ConversationError(DomainError):
    """A rule of the conversations refused the request."""


def award_of(proposal: Proposal):
    """The proposal's award (funding.Award, through its reverse relation: reviews does not import funding), or
    None."""
    try:
        return proposal.award
    except ObjectDoesNotExist:
        return None


def conversation_target(proposal: Proposal, topic: str):
    """What a conversation is about, for its page and its audit entries: the proposal, or its award (None when
    the topic is the award and the proposal has none)."""
    if topic == ThreadTopic.PROPOSAL:
        return proposal
    if topic == ThreadTopic.AWARD:
        return award_of(proposal)
    return None


def thread_of(proposal: Proposal, topic: str) -> MessageThread | None:
    return MessageThread.objects.filter(proposal=proposal, topic=topic).first()


def message_side(user, proposal: Proposal) -> str:
    """The side a person writes from: an applicant first (a staff member who is also the PI writes as PI)."""
    return MessageSide.APPLICANTS if is_proposal_applicant(user, proposal) else MessageSide.DIRECTORATE


def _recipients(proposal: Proposal, *, side: str, author) -> list:
    """The other side, the author excepted: the panel's officers not in conflict with the proposal, or the PI
    and the active co-applicants who edit (``is_proposal_applicant``)."""
    if side == MessageSide.APPLICANTS:
        panel = panel_of(proposal)
        if panel is None:
            return []
        conflicted = Conflict.objects.filter(proposal=proposal).values("reviewer__user")
        people = list(panel.officers.exclude(pk__in=conflicted).filter(is_active=True).order_by("pk"))
    else:
        coapplicants = [row.user for row in active_coapplications_of(proposal)]
        people = [proposal.pi, *coapplicants]
    return [person for person in people if person.pk != author.pk]


def active_coapplications_of(proposal: Proposal):
    """The co-applicants who take part in the proposal's conversations: ``is_proposal_coapplicant`` as a query
    (accepted, not revoked, editing)."""
    return (proposal.coapplicants.filter(accepted_at__isnull=False, revoked_at__isnull=True, user__isnull=False,
                                         role=CoApplicantRole.EDITOR)
            .select_related("user").order_by("pk"))


def message_post(
    *, proposal_id: int, topic: str, user, text: str, now: dt.datetime, pdf: CheckedPdf | None = None,
    language: str = "",
) -> Message:
    """Add a message (and its checked PDF) to the conversation of a proposal or its award.

    Only the applicants, the panel's officer and the directorate write (``may_converse``); the award's
    conversation exists once the proposal has an award. A message to a closed conversation opens it again:
    the applicants always reach someone. ``language`` is the language the text was written in (the page's),
    which marks it wherever it shows. The proposal's row is locked, so two first messages make one thread.
    """
    text = (text or "").strip()
    if not text:
        raise ConversationError(_("Write a message."), code="empty")
    if len(text) > MESSAGE_MAX_CHARS:
        raise ConversationError(
            _("The message is %(length)s characters long; the limit is %(limit)s. Shorten it, or attach a PDF.")
            % {"length": len(text), "limit": MESSAGE_MAX_CHARS}, code="too_long")
    with transaction.atomic():
        proposal = Proposal.objects.select_for_update(of=("self",)).select_related("call", "pi").get(pk=proposal_id)
        if not may_converse(user, proposal):
            raise ConversationError(_("You do not take part in this conversation."), code="forbidden")
        target = conversation_target(proposal, topic)
        if target is None:
            raise ConversationError(_("This proposal has no award: there is no conversation about it."),
                                    code="no_award")
        thread, _created = MessageThread.objects.get_or_create(proposal=proposal, topic=topic,
                                                               defaults={"created_at": now})
        side = message_side(user, proposal)
        reopened = thread.closed_at is not None
        message = Message(thread=thread, author=user, side=side, text=text, created_at=now,
                          language=written_language(language))
        if pdf is not None:
            message.attachment_name = pdf.display_name
            message.attachment_size = pdf.size
            message.attachment_sha256 = pdf.sha256
            message.attachment_pages = pdf.pages
            message.attachment.save("attachment.pdf", ContentFile(pdf.content), save=False)
        try:
            message.save()
        except Exception:
            if pdf is not None:
                message.attachment.delete(save=False)
            raise
        thread.last_message_at, thread.last_side = now, side
        thread.closed_at, thread.closed_by = None, None
        thread.save(update_fields=["last_message_at", "last_side", "closed_at", "closed_by"])
        _mark_read(thread, user=user, message_id=message.pk, now=now)
        data = {"thread": thread.pk, "message": message.pk, "topic": topic, "side": side, "reopened": reopened}
        if pdf is not None:
            data |= {"sha256": pdf.sha256, "size": pdf.size, "name": pdf.display_name}
        audit_record(actor=user, target=target, action="message.post", now=now, data=data)
        notify_message(message, recipients=_recipients(proposal, side=side, author=user), now=now)
    return message


def _mark_read(thread: MessageThread, *, user, message_id: int, now: dt.datetime) -> None:
    marker, created = ThreadRead.objects.get_or_create(
        thread=thread, user=user, defaults={"last_read_message_id": message_id, "read_at": now})
    if not created and marker.last_read_message_id < message_id:
        # Compare-and-set: two tabs opening the thread at once never move the marker back.
        ThreadRead.objects.filter(pk=marker.pk, last_read_message_id__lt=message_id).update(
            last_read_message_id=message_id, read_at=now)


def thread_mark_read(*, thread: MessageThread, user, now: dt.datetime) -> None:
    """The person opened the conversation: every message in it is read for them (not for the others on their
    side). Not audited: reading changes nothing of the proposal."""
    last = thread.messages.order_by("-pk").values_list("pk", flat=True).first()
    if last is not None and user.is_authenticated:
        _mark_read(thread, user=user, message_id=last, now=now)


def _set_closed(*, thread_id: int, user, now: dt.datetime, close: bool) -> MessageThread:
    if not is_directorate(user):
        raise ConversationError(_("Only the directorate closes and reopens conversations."), code="forbidden")
    with transaction.atomic():
        thread = MessageThread.objects.select_for_update(of=("self",)).select_related("proposal").get(pk=thread_id)
        if close and thread.closed_at is not None:
            raise ConversationError(_("This conversation is already closed."), code="closed")
        if not close and thread.closed_at is None:
            raise ConversationError(_("This conversation is already open."), code="open")
        thread.closed_at, thread.closed_by = (now, user) if close else (None, None)
        thread.save(update_fields=["closed_at", "closed_by"])
        target = conversation_target(thread.proposal, thread.topic) or thread.proposal
        audit_record(actor=user, target=target, now=now, data={"thread": thread.pk, "topic": thread.topic},
                     action="message.thread_close" if close else "message.thread_reopen")
    return thread


def thread_close(*, thread_id: int, user, now: dt.datetime) -> MessageThread:
    """The directorate marks a conversation as dealt with: it leaves the list of open conversations. A new
    message opens it again (``message_post``)."""
    return _set_closed(thread_id=thread_id, user=user, now=now, close=True)


def thread_reopen(*, thread_id: int, user, now: dt.datetime) -> MessageThread:
    """The directorate puts a closed conversation back in the list of open ones."""
    return _set_closed(thread_id=thread_id, user=user, now=now, close=False)
