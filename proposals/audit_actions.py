"""The actions this app records in the audit trail, in words (iea/audit/actions.py)."""

from django.utils.translation import gettext_lazy as _

from iea.audit.actions import register_actions

register_actions({
    "proposal.create": _("Proposal started"),
    "proposal.restart": _("Proposal started from an earlier one"),
    "proposal.submit": _("Proposal submitted"),
    "proposal.resubmit": _("Proposal submitted again"),
    "proposal.withdraw": _("Proposal withdrawn"),
    "proposal.invite_partner": _("Partner invited"),
    "proposal.letter_upload": _("Partner's letter received"),
    "proposal.partner_links_revoked": _("Partner changed: the former partner's links revoked"),
    "proposal.rfi_ask": _("Information requested from the PI"),
    "proposal.rfi_cancel": _("Request for information cancelled"),
    "proposal.rfi_answer": _("Request for information answered (new version)"),
    "proposal.rfi_expire": _("Request for information expired unanswered"),
    "proposal.save": _("Proposal changed"),
    "proposal.team_add": _("Team member added"),
    "proposal.team_remove": _("Team member removed"),
    "proposal.coapplicant_invite": _("Co-applicant invited"),
    "proposal.coapplicant_accept": _("Co-applicant joined"),
    "proposal.coapplicant_revoke": _("Co-applicant removed"),
    "proposal.coapplicant_leave": _("Co-applicant left"),
})
