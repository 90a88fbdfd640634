"""The actions this app records in the audit trail, in words (iea/audit/actions.py)."""

from django.utils.translation import gettext_lazy as _

from iea.audit.actions import register_actions

register_actions({
    "proposal.create": _("Proposal started"),
    "proposal.submit": _("Proposal submitted"),
    "proposal.resubmit": _("Proposal submitted again"),
    "proposal.withdraw": _("Proposal withdrawn"),
    "proposal.invite_partner": _("Partner invited"),
    "proposal.letter_upload": _("Partner's letter received"),
    "proposal.partner_links_revoked": _("Partner changed: the former partner's links revoked"),
})
