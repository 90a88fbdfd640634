"""Who may do what with a proposal: named predicates, the one source for views, templates, admin and API.

Reviewers and officers gain access in the review app (issue: peer review); until then a proposal is
visible to its PI and to directorate staff only. The partner reaches a proposal through an invitation
link, which is not a user: see ``proposals.domain.invitation_resolve``.
"""

import rules
from django.db.models import Q

from iea.roles import is_directorate

from .models import CoApplicant, CoApplicantRole, Proposal


@rules.predicate
def is_proposal_pi(user, proposal) -> bool:
    return proposal is not None and user.is_authenticated and proposal.pi_id == user.pk


def active_coapplications(user):
    """The co-applicant rows through which ``user`` reaches proposals: accepted, not revoked (#21)."""
    return CoApplicant.objects.filter(user=user, accepted_at__isnull=False, revoked_at__isnull=True)


@rules.predicate
def is_proposal_coapplicant(user, proposal) -> bool:
    """An accepted, not revoked co-applicant who edits the draft with the PI (not a reader)."""
    if proposal is None or not user.is_authenticated:
        return False
    return active_coapplications(user).filter(proposal=proposal, role=CoApplicantRole.EDITOR).exists()


@rules.predicate
def is_proposal_reader(user, proposal) -> bool:
    """An accepted, not revoked co-applicant of either role: reads the proposal."""
    if proposal is None or not user.is_authenticated:
        return False
    return active_coapplications(user).filter(proposal=proposal).exists()


# The applicants' side of a proposal: its PI and the colleagues editing it with them (messages, drafts).
is_proposal_applicant = is_proposal_pi | is_proposal_coapplicant


# Co-applicants (#21): every accepted one reads the proposal, the editors change the draft with the PI; only the
# PI submits, withdraws and invites (``can_submit_proposal``, asked again by the domain functions).
can_view_proposal = is_proposal_pi | is_proposal_reader | is_directorate
can_edit_proposal = is_proposal_applicant
can_submit_proposal = is_proposal_pi

# Read by the admin, not by the platform's code: Django's view permission of the Proposal model has this very
# name, and ModelAdmin.has_view_permission asks it without an object, so any directorate member may look at
# the proposals in the admin (tests/proposals/test_admin.py).
rules.add_perm("proposals.view_proposal", can_view_proposal)


def visible_proposals(user, queryset=None):
    """The proposals a user may list: the same rule as ``can_view_proposal``, as a queryset filter."""
    queryset = queryset if queryset is not None else Proposal.objects.all()
    if not user.is_authenticated:
        return queryset.none()
    if is_directorate(user):
        return queryset
    return queryset.filter(Q(pi=user) | Q(pk__in=active_coapplications(user).values("proposal_id")))
