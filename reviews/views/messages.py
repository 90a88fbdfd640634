"""The conversation of a proposal or its award (#21), under the proposal's address:
/proposals/<pk>/messages/<topic>/.

One page for everyone who takes part (``reviews.rules.may_converse``): the PI and co-applicants, the officer
of the proposal's panel, directorate staff. Anyone else gets a 404, reviewers and unit managers included, so
that a conversation's existence is not revealed. Opening the page marks its messages read for that person.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from iea.http import stored_file_download
from iea.roles import is_directorate
from proposals.letters import check_pdf
from proposals.models import Message, Proposal, ThreadRead, ThreadTopic

from ..domain import messages as domain
from ..forms.messages import MessageForm
from ..rules import is_panel_officer, may_converse, panel_of


def _conversation_for(request, pk: int, topic: str):
    """The proposal and what the conversation is about, if the user takes part; 404 otherwise."""
    if topic not in ThreadTopic.values:
        raise Http404
    proposal = get_object_or_404(Proposal.objects.select_related("call", "pi", "unit"), pk=pk)
    if not may_converse(request.user, proposal):
        raise Http404
    target = domain.conversation_target(proposal, topic)
    if target is None:
        raise Http404
    return proposal, target


def _back_link(request, proposal, topic) -> tuple[str, str]:
    """Where the person came from: the applicants' proposal or award page, the officer's panel page, the back
    office's list of conversations."""
    if domain.message_side(request.user, proposal) == "applicants":
        if topic == ThreadTopic.AWARD:
            return reverse("funding:award", kwargs={"pk": proposal.award.pk}), _("Back to the award")
        return reverse("proposals:detail", kwargs={"pk": proposal.pk}), _("Back to the proposal")
    if is_directorate(request.user):
        return reverse("admin:proposals_messagethread_changelist"), _("Back to the conversations")
    panel = panel_of(proposal)
    if panel is not None and is_panel_officer(request.user, proposal):
        return (reverse("panel:proposal", kwargs={"panel_id": panel.pk, "proposal_id": proposal.pk}),
                _("Back to the proposal in the panel"))
    return "", ""


@login_required
@require_http_methods(["GET", "POST"])
def thread(request, pk, topic):
    proposal, target = _conversation_for(request, pk, topic)
    now = timezone.now()
    form = MessageForm()
    status = 200
    if request.method == "POST":
        form = MessageForm(request.POST, request.FILES)
        if form.is_valid() and _posted(request, form, proposal=proposal, topic=topic, now=now):
            messages.success(request, _("Your message was sent."))
            return redirect(request.path + "#latest")
        status = 400  # the form comes back with what was typed
    conversation = domain.thread_of(proposal, topic)
    thread_messages, read_up_to = [], 0
    if conversation is not None:
        read_up_to = (ThreadRead.objects.filter(thread=conversation, user=request.user)
                      .values_list("last_read_message_id", flat=True).first() or 0)
        thread_messages = list(conversation.messages.select_related("author").order_by("created_at", "pk"))
        for message in thread_messages:
            message.is_new = message.pk > read_up_to and message.author_id != request.user.pk
        if status == 200:
            domain.thread_mark_read(thread=conversation, user=request.user, now=now)
    back_url, back_label = _back_link(request, proposal, topic)
    return render(request, "reviews/conversation/thread.html", {
        "proposal": proposal, "topic": topic, "target": target, "conversation": conversation,
        "thread_messages": thread_messages, "unread": sum(1 for m in thread_messages if m.is_new),
        "form": form, "back_url": back_url, "back_label": back_label,
        "side": domain.message_side(request.user, proposal), "can_close": is_directorate(request.user),
    }, status=status)


def _posted(request, form, *, proposal, topic, now) -> bool:
    """Check the PDF and post the message; a refusal goes on the form, which keeps the text typed."""
    upload = form.cleaned_data["attachment"]
    try:
        pdf = check_pdf(upload) if upload else None
    except ValidationError as error:
        form.add_error("attachment", [*error.messages, _("Your text is kept: choose a PDF again, or send without it.")])
        return False
    try:
        domain.message_post(proposal_id=proposal.pk, topic=topic, user=request.user, text=form.cleaned_data["text"],
                            pdf=pdf, now=now, language=request.LANGUAGE_CODE)
    except ValidationError as error:
        form.add_error(None, error)
        return False
    return True


@login_required
@require_http_methods(["GET"])
def attachment(request, pk, topic, message_id):
    proposal, _target = _conversation_for(request, pk, topic)
    message = get_object_or_404(Message, pk=message_id, thread__proposal=proposal, thread__topic=topic)
    if not message.attachment:
        raise Http404
    return stored_file_download(message.attachment, filename=f"message-{proposal.reference}-{message.pk}.pdf",
                                content_type="application/pdf")


def _set_closed(request, pk, topic, *, close: bool):
    proposal, _target = _conversation_for(request, pk, topic)
    conversation = domain.thread_of(proposal, topic)
    if conversation is None:
        raise Http404
    try:
        change = domain.thread_close if close else domain.thread_reopen
        change(thread_id=conversation.pk, user=request.user, now=timezone.now())
    except ValidationError as error:
        if getattr(error, "code", "") == "forbidden":
            raise Http404 from None
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("The conversation is closed.") if close else _("The conversation is open again."))
    return redirect("conversation:thread", pk=proposal.pk, topic=topic)


@login_required
@require_POST
def close(request, pk, topic):
    return _set_closed(request, pk, topic, close=True)


@login_required
@require_POST
def reopen(request, pk, topic):
    return _set_closed(request, pk, topic, close=False)
