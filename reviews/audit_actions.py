"""The actions this app records in the audit trail, in words (iea/audit/actions.py)."""

from django.utils.translation import gettext_lazy as _

from iea.audit.actions import register_actions, register_names

from .models import Assignment, Panel, Review, Reviewer, ReviewerSuggestion

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
    "panel.affinity_request": _("Affinities requested"),
    "panel.affinity_compute": _("Affinities computed"),
    "panel.recommend": _("Panel recommendation recorded"),
    "panel.rank": _("Panel ranking recorded"),
    "review.assign": _("Reviewer assigned"),
    "review.accept": _("Assignment accepted"),
    "review.decline": _("Assignment declined"),
    "review.conflict": _("Conflict of interest recorded"),
    "review.conflict_dismiss": _("Conflict of interest dismissed (not the same person)"),
    "review.open": _("Review started"),
    "review.submit": _("Review submitted"),
    "review.reopen": _("Review reopened"),
    "review.close": _("Assignment closed (decision mailed)"),
    "review.outcome_told": _("Outcome of the reviewed proposals sent to a reviewer"),
    "review.offline_download": _("Proposals downloaded for offline reading"),
    "profile.publications_import": _("Publications imported"),
    "profile.publication_delete": _("Publication removed from the profile"),
    "profile.identifiers_set": _("Researcher identifiers recorded"),
    "profile.expertise_update": _("Expertise keywords and sections edited"),
})

# What the names of the objects this app records read (iea/audit/actions.py: register_names).
register_names(Reviewer, "user", "institute")
register_names(Panel, "call", "institute")
register_names(Assignment, "reviewer__user", "reviewer__institute", "proposal")
register_names(Review, "reviewer__user", "reviewer__institute", "proposal")

# #20 bids: bidding on the panel's proposals, and the colleagues suggested by reviewers who decline.
register_actions({
    "panel.bidding_open": _("Bidding opened"),
    "panel.bidding_close": _("Bidding closed"),
    "panel.bids_save": _("Bids recorded"),
    "review.suggest": _("Colleague suggested"),
    "panel.suggestion_accept": _("Suggested colleague added to the pool"),
    "panel.suggestion_dismiss": _("Suggested colleague dismissed"),
})
register_names(ReviewerSuggestion)  # its name is the colleague's name and e-mail
# #20 solver: caps and unavailability.
register_actions({
    "panel.default_cap": _("Default maximum of reviews set"),
    "panel.reviewer_cap": _("Reviewer's maximum of reviews set"),
    "reviewer.unavailability_add": _("Unavailability recorded"),
    "reviewer.unavailability_delete": _("Unavailability deleted"),
})

# The conversations of #21 (``domain.messages``): on the proposal or the award they are about.
register_actions({
    "message.post": _("Message sent in the conversation"),
    "message.thread_close": _("Conversation closed"),
    "message.thread_reopen": _("Conversation reopened"),
})
