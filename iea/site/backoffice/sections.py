"""The back office's index: seven sections of the directorate's work, each with its pages and its lists.

A model registered in the admin is either in one section or hidden from the index (its list still answers
and the pages link to it: a tranche is reached from its award, an API token from its user). A model in
neither would be in the index nowhere: ``tests/backoffice/test_sections.py`` fails on it, and at run time it
shows under *System* rather than vanish.
"""

from dataclasses import dataclass, field

from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Page:
    """A page of the back office that is not a model's list: its URL name and label, and the model whose
    view permission it requires (the page checks it too)."""

    url_name: str
    label: str
    permission_model: str


@dataclass(frozen=True)
class Section:
    key: str
    label: str
    models: tuple[str, ...]
    pages: tuple[Page, ...] = ()
    hidden: tuple[str, ...] = ()
    superuser_only: tuple[str, ...] = field(default=())


SCREENING_AND_DECISIONS = "admin:reviews_staff_calls"

SECTIONS: tuple[Section, ...] = (
    Section("calls", _("Calls"), models=("calls.Call", "calls.Institute", "calls.Delegation", "calls.Unit"),
            pages=(Page("admin:statistics", _("Statistics"), "proposals.Proposal"),)),
    Section("screening", _("Screening"), models=("proposals.Proposal", "proposals.MessageThread"),
            pages=(Page(SCREENING_AND_DECISIONS, _("Screening by call"), "reviews.Decision"),),
            hidden=("proposals.PartnerInvitation",)),
    Section("review", _("Review"),
            models=("reviews.Panel", "reviews.Reviewer", "reviews.Assignment", "reviews.Review", "reviews.Conflict",
                    "reviews.ConflictDismissal", "reviews.Bid", "reviews.Publication", "reviews.ReviewerSuggestion"),
            pages=(Page("admin:reviewer_statistics", _("Reviewers' statistics"), "reviews.Panel"),),
            hidden=("reviews.PanelRecommendation", "reviews.ReviewerCap", "reviews.Unavailability")),
    Section("decisions", _("Decisions"), models=("reviews.Decision",),
            pages=(Page(SCREENING_AND_DECISIONS, _("Decisions by call"), "reviews.Decision"),)),
    Section("funding", _("Funding"), models=("funding.Award", "funding.Report", "funding.Amendment"),
            hidden=("funding.Tranche", "funding.SpendingLine", "funding.CosignInvitation", "funding.AwardVersion",
                    "funding.AwardBudgetLine")),
    Section("people", _("People"), models=("accounts.User", "privacy.ErasureRequest", "auth.Group"),
            hidden=("accounts.ApiToken", "account.EmailAddress", "mfa.Authenticator"),
            superuser_only=("auth.Group",)),
    Section("system", _("System"),
            models=("notifications.Notification", "audit.AuditEntry", "privacy.AnonymisedProposal",
                    "socialaccount.SocialApp"),
            hidden=("socialaccount.SocialAccount", "socialaccount.SocialToken")),
)

FALLBACK = "system"  # where a model in no section shows (never by design: the test fails on it)


def section_of(label: str) -> str | None:
    """The key of the section that lists or hides the model ``app_label.ModelName``."""
    for section in SECTIONS:
        if label in section.models or label in section.hidden:
            return section.key
    return None


def is_hidden(label: str) -> bool:
    return any(label in section.hidden for section in SECTIONS)
