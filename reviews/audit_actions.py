"""The actions this app records in the audit trail, in words (iea/audit/actions.py)."""

from django.utils.translation import gettext_lazy as _

from iea.audit.actions import register_actions, register_names

from .models import Assignment, Panel, Review, Reviewer

register_actions({
    "proposal.screen": _("Proposal screened"),
    "proposal.review_start": _("Proposal sent to review"),
    "panel.create": _("Panel created"),
    "panel.update": _("Panel edited"),
    "panel.reviewer_add": _("Reviewer added to the pool"),
    "panel.reviewer_deactivate": _("Reviewer taken off the pool"),
    "panel.auto_assign_start": _("Automatic assignment started"),
    "panel.auto_assign": _("Reviewers proposed automatically"),
    "panel.auto_assign_fail": _("Automatic assignment failed"),
    "panel.recommend": _("Panel recommendation recorded"),
    "panel.rank": _("Panel ranking recorded"),
    "review.assign": _("Reviewer assigned"),
    "review.accept": _("Assignment accepted"),
    "review.decline": _("Assignment declined"),
    "review.conflict": _("Conflict of interest recorded"),
    "review.open": _("Review started"),
    "review.submit": _("Review submitted"),
    "review.reopen": _("Review reopened"),
    "review.close": _("Assignment closed (decision mailed)"),
})

# What the names of the objects this app records read (iea/audit/actions.py: register_names).
register_names(Reviewer, "user", "institute")
register_names(Panel, "call", "institute")
register_names(Assignment, "reviewer__user", "reviewer__institute", "proposal")
register_names(Review, "reviewer__user", "reviewer__institute", "proposal")
