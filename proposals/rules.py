"""Who may do what with a proposal: named predicates, the one source for views, templates, admin and API.

Reviewers and officers gain access in the review app (issue: peer review); until then a proposal is
visible to its PI and to directorate staff only. The partner reaches a proposal through an invitation
link, which is not a user: see ``proposals.domain.invitation_resolve``.
"""

import rules

from iea.roles import is_directorate

from .models import Proposal


@rules.predicate
def is_proposal_pi(user, proposal) -> bool:
    return proposal is not None and user.is_authenticated and proposal.pi_id == user.pk


can_view_proposal = is_proposal_pi | is_directorate
can_edit_proposal = is_proposal_pi

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
    return queryset.filter(pi=user)
