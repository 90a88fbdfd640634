"""The actions this app records in the audit trail, in words (iea/audit/actions.py)."""

from django.utils.translation import gettext_lazy as _

from iea.audit.actions import register_actions

register_actions({
    "notification.failed": _("Message could not be sent"),
    "notification.resend": _("Message sent again"),
})
