"""The rules of a proposal: creating, saving drafts, the support letter, eligibility, submission, withdrawal.

Views, admin actions, the API and tasks call these functions; none re-implements a rule. Every state
change locks the proposal row, writes its audit entry in the same transaction, and queues its mail
with ``delay_on_commit``. ``now`` is always an argument, so tests pin the clock.

One module per concept; this package exposes them all, so callers write ``proposals.domain.X``.
"""

from .coapplicants import (
    CoApplicantError,
    coapplicant_accept,
    coapplicant_accept_refusal,
    coapplicant_by_nonce,
    coapplicant_invite,
    coapplicant_revoke,
    proposal_coapplicants,
)
from .common import (
    ProposalError,
    information_item_label,
    information_item_labels,
    information_request_in_force,
    open_information_request,
    proposal_edit_refusal,
    proposal_editable,
    proposal_in_submission,
)
from .drafts import (
    DRAFT_FIELDS,
    active_proposal_count,
    draft_start,
    proposal_create,
    proposal_save_draft,
    team_member_add,
    team_member_remove,
)
from .eligibility import (
    REQUIRED_FIELDS,
    Check,
    proposal_budget_total,
    proposal_checklist,
    proposal_is_eligible,
)
from .history import HistoryLine, proposal_history
from .information import (
    INFORMATION_ITEMS,
    information_answer,
    information_item_choices,
    information_request_refusal,
    information_requests_of,
)
from .partner import (
    InvitationInvalid,
    current_invitation,
    current_letter,
    invitation_closed_reason,
    invitation_create,
    invitation_resolve,
    invitation_token,
    letter_attach,
    letter_from_former_partner,
    partner_invitations,
    partner_links_revoke,
    partner_needs_invitation,
)
from .restart import RESTARTABLE_STATES, RestartResult, proposal_restart, restart_refusal, restart_sources
from .submission import SubmitResult, content_hash, proposal_snapshot, proposal_submit, proposal_withdraw

__all__ = [
    "INFORMATION_ITEMS", "information_answer", "information_item_choices", "information_item_label",
    "information_item_labels", "information_request_in_force", "information_request_refusal", "information_requests_of",
    "open_information_request",
    "DRAFT_FIELDS", "REQUIRED_FIELDS", "RESTARTABLE_STATES", "RestartResult", "draft_start", "proposal_restart",
    "restart_refusal", "restart_sources", "Check", "InvitationInvalid", "ProposalError", "SubmitResult",
    "CoApplicantError", "coapplicant_accept", "coapplicant_accept_refusal", "coapplicant_by_nonce", "coapplicant_invite",
    "coapplicant_revoke", "proposal_coapplicants", "HistoryLine", "proposal_history",
    "active_proposal_count", "content_hash", "current_invitation", "current_letter", "invitation_closed_reason", "invitation_create",
    "invitation_resolve", "invitation_token", "letter_attach", "letter_from_former_partner", "partner_invitations", "partner_links_revoke", "partner_needs_invitation", "proposal_budget_total", "proposal_edit_refusal", "proposal_editable", "proposal_checklist",
    "proposal_create", "proposal_in_submission", "proposal_is_eligible", "proposal_save_draft", "proposal_snapshot", "proposal_submit",
    "proposal_withdraw", "team_member_add", "team_member_remove",
]
