"""The PI's pages. Each view checks access with the predicates of ``proposals.rules``, then calls a domain
function; none decides a rule itself. One module per concern; ``proposals.urls`` names them from here."""

from .coapplicants import coapplicant_accept, coapplicant_invite, coapplicant_revoke
from .editor import (
    autosave,
    create,
    edit,
    information_answer,
    invite,
    letter_upload,
    restart,
    submit,
    team_add,
    team_remove,
    withdraw,
)
from .pages import dashboard, detail, letter_download, receipt
from .partner import partner, partner_letter

__all__ = [
    "autosave", "coapplicant_accept", "coapplicant_invite", "coapplicant_revoke", "create", "dashboard", "detail", "edit",
    "information_answer", "invite", "letter_download", "letter_upload", "partner", "partner_letter", "receipt", "restart",
    "submit", "team_add", "team_remove", "withdraw",
]
