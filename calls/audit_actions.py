"""The actions this app records in the audit trail, in words (iea/audit/actions.py)."""

from django.utils.translation import gettext_lazy as _

from iea.audit.actions import register_actions

register_actions({
    "call.create": _("Call created"),
    "call.update": _("Call edited"),
    "call.clone": _("Call copied from an earlier one"),
    "call.publish": _("Call published"),
    "call.open": _("Call opened"),
    "call.close": _("Call closed"),
    "call.extend": _("Call deadline moved"),
    "call.start_review": _("Call sent to review"),
    "call.mark_decided": _("Call marked decided"),
})
