"""The actions this app records in the audit trail, in words (iea/audit/actions.py)."""

from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from iea.audit.actions import register_actions, register_states

register_actions({
    "account.profile_update": _("Name, language or researcher identifiers changed"),
    "account.calendar_reset": _("Calendar link renewed"),
    "account.announcements_subscribe": _("Subscribed to call announcements"),
    "account.announcements_unsubscribe": _("Unsubscribed from call announcements"),
    "account.api_token_create": _("API token created"),
    "account.api_token_revoke": _("API token revoked"),
})
# An account's subscription to call announcements (iea/accounts/domain.py: announcements_subscribe).
register_states(get_user_model(), {"subscribed": _("subscribed"), "unsubscribed": _("not subscribed")})
