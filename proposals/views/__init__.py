"""The PI's pages. Each view checks access with the predicates of ``proposals.rules``, then calls a domain
function; none decides a rule itself. One module per concern; ``proposals.urls`` names them from here."""

from .editor import autosave, create, edit, invite, letter_upload, submit, team_add, team_remove, withdraw
from .pages import dashboard, detail, letter_download, receipt
from .partner import partner, partner_letter

__all__ = [
    "autosave", "create", "dashboard", "detail", "edit", "invite", "letter_download", "letter_upload", "partner",
    "partner_letter", "receipt", "submit", "team_add", "team_remove", "withdraw",
]
