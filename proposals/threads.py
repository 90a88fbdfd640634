"""Reads of the conversations (#21) that the applicants' list pages share: the unread counts.

A message is unread by a person when someone else wrote it after the last message that person read
(``ThreadRead``); opening the conversation moves the marker (``reviews.domain.messages.thread_mark_read``).
"""

from django.db.models import Count, F, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce

from .models import Message, ThreadRead


def unread_messages(user, *, proposal_ids, topic: str | None = None):
    """The messages ``user`` has not read in the conversations of these proposals (one topic, or both)."""
    marker = ThreadRead.objects.filter(thread=OuterRef("thread"), user=user).values("last_read_message_id")[:1]
    messages = Message.objects.filter(thread__proposal_id__in=proposal_ids).exclude(author=user)
    if topic is not None:
        messages = messages.filter(thread__topic=topic)
    return messages.annotate(read_up_to=Coalesce(Subquery(marker), Value(0))).filter(pk__gt=F("read_up_to"))


def unread_counts(user, *, proposal_ids, topic: str | None = None) -> dict[tuple[int, str], int]:
    """{(proposal id, topic): number of unread messages}, in one query; absent keys have none."""
    if not user.is_authenticated:
        return {}
    rows = (unread_messages(user, proposal_ids=proposal_ids, topic=topic)
            .values("thread__proposal_id", "thread__topic").annotate(unread=Count("pk")).order_by())
    return {(row["thread__proposal_id"], row["thread__topic"]): row["unread"] for row in rows}
