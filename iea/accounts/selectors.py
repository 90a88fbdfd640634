"""Reads of a person's own account pages."""

from iea.notifications.kinds import kind_label
from iea.notifications.models import Notification, NotificationState

# The badge of each state of a message (generic tones of static/css/app.css).
STATE_BADGES = {
    NotificationState.PENDING: "info",
    NotificationState.SENDING: "info",
    NotificationState.SENT: "success",
    NotificationState.FAILED: "warning",
    NotificationState.SKIPPED: "draft",
}


def notifications_of(user):
    """The messages the platform sent or will send to the person, newest first.

    Only what the list shows is read: never the text as sent (account mail carries one-time links) nor
    the parameters it was rendered from.
    """
    return (Notification.objects.filter(recipient=user)
            .only("kind", "subject", "language", "state", "due_at", "sent_at", "created_at")
            .order_by("-created_at", "-id"))


def decorate(rows) -> list:
    """Give each row of a page its kind's label and its state's badge, for the template."""
    rows = list(rows)
    for row in rows:
        row.kind_label = kind_label(row.kind)
        row.badge = STATE_BADGES.get(row.state, "info")
    return rows
