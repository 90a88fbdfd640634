"""The actions this app records in the audit trail, in words (iea/audit/actions.py)."""

from django.utils.translation import gettext_lazy as _

from iea.audit.actions import register_actions, register_actors

register_actions({
    "notification.failed": _("Message could not be sent"),
    "notification.resend": _("Message sent again"),
    "notification.remind": _("Reminder sent by hand"),
})

# The outbox's dispatcher, recording a message it gave up on (iea.notifications.domain).
register_actors({"mail dispatcher": _("mail dispatcher")})
