"""Who may see what in the review: named predicates and the querysets that match them.

The one rule behind every view, download, export and API endpoint of the review:
- a reviewer sees a proposal while an assignment of theirs is open (invited: title, abstract and teams
  only; accepted: everything) and no conflict of interest exists between them and the proposal;
- an officer sees every proposal of their panel (call × institute), except where they are in conflict;
- directorate staff see everything.
A conflict is looked up on every request, so declaring one removes access on the next request.
Reviewers, officers and staff must have two-factor authentication before they see any proposal:
``iea.middleware.TwoFactorMiddleware`` asks it of every request.
"""

import rules
from django.db.models import Exists, OuterRef

from iea.roles import is_directorate, user_roles
from proposals.models import Proposal, evaluated_by
from proposals.rules import is_proposal_applicant

from .models import (
    REVIEWABLE_STATES,
    Assignment,
    AssignmentState,
    Conflict,
    Panel,
    Review,
    Reviewer,
    ReviewState,
)

OPEN_ASSIGNMENT_STATES = [AssignmentState.INVITED, AssignmentState.ACCEPTED]


def _conflicted(user, proposal) -> bool:
    return Conflict.objects.filter(proposal=proposal, reviewer__user=user).exists()


@rules.predicate
def is_conflicted(user, proposal) -> bool:
    return user.is_authenticated and proposal is not None and _conflicted(user, proposal)


@rules.predicate
def is_reviewer(user) -> bool:
    """In a pool, active: has a list of reviews (whatever it holds today)."""
    return user.is_authenticated and Reviewer.objects.filter(user=user, active=True).exists()


@rules.predicate
def is_invited_reviewer(user, proposal) -> bool:
    """An open assignment (invited or accepted) and no conflict: may see title, abstract and teams."""
    if not user.is_authenticated or proposal is None:
        return False
    return (
        Assignment.objects.filter(proposal=proposal, reviewer__user=user, reviewer__active=True,
                                  state__in=OPEN_ASSIGNMENT_STATES).exists()
        and not _conflicted(user, proposal)
    )


@rules.predicate
def is_reviewing(user, proposal) -> bool:
    """An accepted assignment and no conflict: may read the whole proposal, its letter, and review it."""
    if not user.is_authenticated or proposal is None:
        return False
    return (
        Assignment.objects.filter(proposal=proposal, reviewer__user=user, reviewer__active=True,
                                  state=AssignmentState.ACCEPTED).exists()
        and not _conflicted(user, proposal)
    )


@rules.predicate
def has_submitted_own_review(user, proposal) -> bool:
    return user.is_authenticated and Review.objects.filter(
        proposal=proposal, reviewer__user=user, state=ReviewState.SUBMITTED
    ).exists()


def panel_of(proposal) -> Panel | None:
    institute = proposal.institute
    if institute is None:
        return None
    return Panel.objects.filter(call_id=proposal.call_id, institute=institute).first()


@rules.predicate
def is_panel_officer(user, proposal) -> bool:
    """An officer of the proposal's panel who is not in conflict with it."""
    if not user.is_authenticated or proposal is None:
        return False
    panel = panel_of(proposal)
    return panel is not None and panel.officers.filter(pk=user.pk).exists() and not _conflicted(user, proposal)


@rules.predicate
def is_officer_of_panel(user, panel) -> bool:
    return user.is_authenticated and panel is not None and panel.officers.filter(pk=user.pk).exists()


can_read_other_reviews = (is_reviewing & has_submitted_own_review) | is_panel_officer | is_directorate
can_manage_panel = is_officer_of_panel | is_directorate
# Who wrote a review, and its confidential comment, show to the directorate and to the panel's officers; any
# other reader (a reviewer reading the others' reviews, an export for someone else) gets "Reviewer 1, 2…".
can_see_reviewer_identity = is_directorate | is_officer_of_panel
can_recommend = is_panel_officer | is_directorate


def not_conflicted(queryset, user, proposal_field: str = "pk"):
    """Drop the proposals (or rows pointing to them) the user is in conflict with."""
    return queryset.exclude(
        Exists(Conflict.objects.filter(proposal_id=OuterRef(proposal_field), reviewer__user=user))
    )


def panels_for(user, queryset=None):
    """The panels a user runs (staff: all)."""
    queryset = queryset if queryset is not None else Panel.objects.all()
    if not user.is_authenticated:
        return queryset.none()
    if is_directorate(user):
        return queryset
    return queryset.filter(officers=user)


def assignments_for(user, queryset=None):
    """A reviewer's open assignments, never those in conflict (same rule as ``is_invited_reviewer``)."""
    queryset = queryset if queryset is not None else Assignment.objects.all()
    if not user.is_authenticated:
        return queryset.none()
    queryset = queryset.filter(reviewer__user=user, reviewer__active=True, state__in=OPEN_ASSIGNMENT_STATES)
    return not_conflicted(queryset, user, "proposal_id")


def assignments_listed_for(user):
    """What a reviewer's list shows: the open assignments, and those closed by the decision (shown as
    closed, no longer due; they give no access to the proposal)."""
    if not user.is_authenticated:
        return Assignment.objects.none()
    queryset = Assignment.objects.filter(reviewer__user=user, reviewer__active=True,
                                         state__in=[*OPEN_ASSIGNMENT_STATES, AssignmentState.CLOSED])
    return not_conflicted(queryset, user, "proposal_id")


# A proposal still under review: what the offline bundle carries.
OFFLINE_PROPOSAL_STATES = REVIEWABLE_STATES


def offline_assignments_for(user):
    """What a reviewer may take away for offline reading: the accepted assignments without conflict (the rule
    of online reading, ``is_reviewing``) whose proposal is still under review."""
    return assignments_for(user).filter(state=AssignmentState.ACCEPTED, proposal__state__in=OFFLINE_PROPOSAL_STATES)


def outcome_told(queryset=None):
    """The assignments whose outcome their reviewer may learn (issue #20): their own review of the proposal is
    submitted, they are not in conflict with it (a conflict found later hides it again), the call tells
    reviewers the outcome (``Call.outcome_to_reviewers``) and the decision mail went out. Declined, withdrawn
    and closed assignments never have a submitted review, so they never qualify."""
    queryset = queryset if queryset is not None else Assignment.objects.all()
    return queryset.filter(
        reviewer__active=True, state=AssignmentState.ACCEPTED, review__state=ReviewState.SUBMITTED,
        proposal__call__outcome_to_reviewers=True, proposal__decision__notified_at__isnull=False,
    ).exclude(Exists(Conflict.objects.filter(proposal_id=OuterRef("proposal_id"),
                                             reviewer__user_id=OuterRef("reviewer__user_id"))))


def outcome_assignments_for(user):
    """``outcome_told`` for one reviewer: their own assignments only."""
    if not user.is_authenticated:
        return Assignment.objects.none()
    return outcome_told(Assignment.objects.filter(reviewer__user=user))


def reviews_for(user, queryset=None):
    """A reviewer's own reviews they may still open: accepted assignment, no conflict (``is_reviewing``)."""
    queryset = queryset if queryset is not None else Review.objects.all()
    return queryset.filter(assignment__in=assignments_for(user).filter(state=AssignmentState.ACCEPTED))


def panel_proposals(panel, user, queryset=None):
    """The proposals of a panel that this user may see as officer or staff (own conflicts excluded)."""
    queryset = queryset if queryset is not None else Proposal.objects.all()
    queryset = queryset.filter(call_id=panel.call_id).filter(evaluated_by(panel.institute_id))
    if user is None:  # the system itself (automatic assignment): the whole panel
        return queryset
    return not_conflicted(queryset, user)


def can_dismiss_conflict(user, conflict) -> bool:
    """Who may say a detected conflict was a false match (``conflict_dismiss``): an officer of the panel the
    conflict's reviewer reviews in (the proposal's call × the reviewer's institute) who is not in conflict
    with the proposal themself, or directorate staff."""
    if not user.is_authenticated or conflict is None:
        return False
    panel = Panel.objects.filter(call_id=conflict.proposal.call_id, institute_id=conflict.reviewer.institute_id).first()
    if panel is None:
        return is_directorate(user)
    return bool(can_manage_panel(user, panel)) and panel_proposals(panel, user).filter(pk=conflict.proposal_id).exists()


@rules.predicate
def is_pool_reviewer_of(user, panel) -> bool:
    """An active reviewer of the panel's institute pool: may bid on the panel's proposals while bidding is open
    (titles, abstracts and keywords only; ``reviews.domain.bids``)."""
    return (user.is_authenticated and panel is not None
            and Reviewer.objects.filter(user=user, institute_id=panel.institute_id, active=True).exists())


# --- Reviewer profiles (``reviews.domain.publications``) ---------------------------------------------------------

def is_in_a_pool(user) -> bool:
    """A person in at least one institute's reviewer pool (active): they have a reviewer profile page. The role
    ``reviewer`` says exactly that (``reviews.roles``), read once per request."""
    return user.is_authenticated and user_roles(user).reviewer


@rules.predicate
def can_edit_profile(actor, person) -> bool:
    """Who may change a reviewer's identifiers and publications: the person themself while in a pool, an officer
    of a panel whose institute has them in its pool, and directorate staff."""
    if not actor.is_authenticated or person is None:
        return False
    if actor.pk == person.pk:
        return is_in_a_pool(actor)
    if is_directorate(actor):
        return True
    return Reviewer.objects.filter(
        user=person, institute__panels__officers=actor).exists()


@rules.predicate
def is_pool_reviewer(user) -> bool:
    """In an institute's reviewer pool (active or not): may keep the dates they are away (#20)."""
    return user.is_authenticated and Reviewer.objects.filter(user=user).exists()


# The conversations of #21: the applicants (PI, co-applicants who edit) on one side, the directorate and the
# officer of the proposal's panel on the other. Reviewers and unit managers have no part in them. It lives
# here because the officer is the review's; the proposals' pages ask it through ``user.has_perm``.
may_converse = is_proposal_applicant | is_panel_officer | is_directorate
rules.add_perm("proposals.converse", may_converse)
rules.add_perm("proposals.view_messagethread", is_directorate)  # the back office's list of conversations
