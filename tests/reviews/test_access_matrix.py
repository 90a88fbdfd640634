"""The access matrix of the review: every role × every review-related URL, against one explicit table.

The rules (domain.md, "Actors and what each may do"; ``reviews.rules``):
- reviewer pages: only the reviewer with an accepted assignment and no conflict; the invitation and its
  answers (accept, decline, declare a conflict) also the invited reviewer; never a reviewer in conflict;
- panel pages: the officers of the panel (call × institute) and directorate staff; an officer of another
  panel of the same call is refused;
- the directorate's admin pages: staff only;
- the PI's own pages (detail, letter download, receipt): the PI and staff only, never reviewers or officers;
- a partner invitation link is not a user: having opened it gains nothing anywhere else.
A refused POST changes nothing in the database. The two list pages answer anyone signed in with the role
but show only that person's items: their content is checked.

Then: a conflict declared mid-review revokes access on the next request; reviewers and officers without
two-factor authentication are sent to set it up; downloads are attachments.
"""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from iea.audit.models import AuditEntry
from proposals import domain as proposals_domain
from proposals.models import PartnerInvitation, Proposal, ProposalState, SupportLetter
from reviews.domain.scoring import review_open, review_save_draft, review_submit
from reviews.models import (
    Assignment,
    AssignmentJob,
    AssignmentState,
    Bid,
    Conflict,
    Decision,
    Panel,
    PanelRecommendation,
    Publication,
    Review,
    Reviewer,
    ReviewerCap,
    ReviewerSuggestion,
    Score,
    Unavailability,
)
from tests.access_matrix import DENIED, LOGIN_, MFA_SETUP, OK, check_cell, send
from tests.factories import InstituteFactory, StaffFactory, UnitFactory, UserFactory, activate_totp

from .factories import AssignmentFactory, PanelFactory, ReviewerFactory, eligible_proposal

pytestmark = pytest.mark.django_db


# ---------------------------------------------------------------------------------------------------------------
# The table
# ---------------------------------------------------------------------------------------------------------------

ROLES = (
    "anonymous",      # nobody signed in
    "pi",             # the proposal's PI
    "other_pi",       # another signed-in PI
    "partner",        # a client that has just opened the proposal's valid partner invitation link
    "assigned",       # reviewer with an accepted assignment, no conflict
    "invited",        # reviewer invited, not yet answered
    "unassigned",     # reviewer in the institute's pool, not assigned to the proposal
    "conflicted",     # reviewer with an accepted assignment, then a Conflict row
    "officer",        # officer of the proposal's panel (this institute)
    "other_officer",  # officer of another panel of the same call (another institute)
    "staff",          # directorate staff (superuser, TOTP)
)

# One row per URL (method and name), one column per role, in the order of ROLES.
#   ok     = the view answers this user: 200, or a 302 to a page that is not a sign-in/2FA page
#   login  = 302 to /accounts/login/ (directly, or through the admin's /admin/login/)
#   denied = 404 or 403 (the admin's /admin/login/ answers 403 to a signed-in non-staff user)
#   mfa    = 302 to /accounts/2fa/totp/activate/
#                                            anon    pi      o_pi    partner assign  invited unassig conflic officer o_offic staff
TABLE = {
    # The reviewer's pages (namespace "reviewer").
    "GET reviewer:assignments":             (LOGIN_, OK,     OK,     LOGIN_, OK,     OK,     OK,     OK,     OK,     OK,     OK),
    "GET reviewer:invitation":              (LOGIN_, DENIED, DENIED, LOGIN_, OK,     OK,     DENIED, DENIED, DENIED, DENIED, DENIED),
    "POST reviewer:accept":                 (LOGIN_, DENIED, DENIED, LOGIN_, OK,     OK,     DENIED, DENIED, DENIED, DENIED, DENIED),
    "POST reviewer:decline":                (LOGIN_, DENIED, DENIED, LOGIN_, OK,     OK,     DENIED, DENIED, DENIED, DENIED, DENIED),
    "POST reviewer:declare_conflict":       (LOGIN_, DENIED, DENIED, LOGIN_, OK,     OK,     DENIED, DENIED, DENIED, DENIED, DENIED),
    "GET reviewer:proposal":                (LOGIN_, DENIED, DENIED, LOGIN_, OK,     DENIED, DENIED, DENIED, DENIED, DENIED, DENIED),
    "GET reviewer:letter":                  (LOGIN_, DENIED, DENIED, LOGIN_, OK,     DENIED, DENIED, DENIED, DENIED, DENIED, DENIED),
    "GET reviewer:review":                  (LOGIN_, DENIED, DENIED, LOGIN_, OK,     DENIED, DENIED, DENIED, DENIED, DENIED, DENIED),
    "POST reviewer:review":                 (LOGIN_, DENIED, DENIED, LOGIN_, OK,     DENIED, DENIED, DENIED, DENIED, DENIED, DENIED),
    "POST reviewer:review_autosave":        (LOGIN_, DENIED, DENIED, LOGIN_, OK,     DENIED, DENIED, DENIED, DENIED, DENIED, DENIED),
    # The officer's panel pages (namespace "panel").
    "GET panel:list":                       (LOGIN_, DENIED, DENIED, LOGIN_, DENIED, DENIED, DENIED, DENIED, OK,     OK,     OK),
    "GET panel:table":                      (LOGIN_, DENIED, DENIED, LOGIN_, DENIED, DENIED, DENIED, DENIED, OK,     DENIED, OK),
    "GET panel:export":                     (LOGIN_, DENIED, DENIED, LOGIN_, DENIED, DENIED, DENIED, DENIED, OK,     DENIED, OK),
    "GET panel:proposals_export":           (LOGIN_, DENIED, DENIED, LOGIN_, DENIED, DENIED, DENIED, DENIED, OK,     DENIED, OK),
    "GET panel:reviews_export":             (LOGIN_, DENIED, DENIED, LOGIN_, DENIED, DENIED, DENIED, DENIED, OK,     DENIED, OK),
    "POST panel:rank":                      (LOGIN_, DENIED, DENIED, LOGIN_, DENIED, DENIED, DENIED, DENIED, OK,     DENIED, OK),
    "GET panel:proposal":                   (LOGIN_, DENIED, DENIED, LOGIN_, DENIED, DENIED, DENIED, DENIED, OK,     DENIED, OK),
    "POST panel:proposal":                  (LOGIN_, DENIED, DENIED, LOGIN_, DENIED, DENIED, DENIED, DENIED, OK,     DENIED, OK),
    "GET panel:assignments":                (LOGIN_, DENIED, DENIED, LOGIN_, DENIED, DENIED, DENIED, DENIED, OK,     DENIED, OK),
    "POST panel:assign":                    (LOGIN_, DENIED, DENIED, LOGIN_, DENIED, DENIED, DENIED, DENIED, OK,     DENIED, OK),
    "POST panel:assign_many":               (LOGIN_, DENIED, DENIED, LOGIN_, DENIED, DENIED, DENIED, DENIED, OK,     DENIED, OK),
    "POST panel:auto_assign":               (LOGIN_, DENIED, DENIED, LOGIN_, DENIED, DENIED, DENIED, DENIED, OK,     DENIED, OK),
    "GET panel:auto_assign_state":          (LOGIN_, DENIED, DENIED, LOGIN_, DENIED, DENIED, DENIED, DENIED, OK,     DENIED, OK),
    "POST panel:conflict":                  (LOGIN_, DENIED, DENIED, LOGIN_, DENIED, DENIED, DENIED, DENIED, OK,     DENIED, OK),
    "GET panel:pool":                       (LOGIN_, DENIED, DENIED, LOGIN_, DENIED, DENIED, DENIED, DENIED, OK,     DENIED, OK),
    "GET panel:reviewer_statistics":        (LOGIN_, DENIED, DENIED, LOGIN_, DENIED, DENIED, DENIED, DENIED, OK,     DENIED, OK),
    "POST panel:reviewer_add":              (LOGIN_, DENIED, DENIED, LOGIN_, DENIED, DENIED, DENIED, DENIED, OK,     DENIED, OK),
    "POST panel:reviewer_deactivate":       (LOGIN_, DENIED, DENIED, LOGIN_, DENIED, DENIED, DENIED, DENIED, OK,     DENIED, OK),
    # #20 profiles: rows here (keep this comment).
    "GET reviewer:profile":                 (LOGIN_, DENIED, DENIED, LOGIN_, OK,     OK,     OK,     OK,     DENIED, DENIED, DENIED),
    "POST reviewer:profile_identifiers":    (LOGIN_, DENIED, DENIED, LOGIN_, OK,     OK,     OK,     OK,     DENIED, DENIED, DENIED),
    "POST reviewer:profile_expertise":      (LOGIN_, DENIED, DENIED, LOGIN_, OK,     OK,     OK,     OK,     DENIED, DENIED, DENIED),
    "POST reviewer:profile_import":         (LOGIN_, DENIED, DENIED, LOGIN_, OK,     OK,     OK,     OK,     DENIED, DENIED, DENIED),
    "POST reviewer:profile_publication_delete": (LOGIN_, DENIED, DENIED, LOGIN_, OK, OK,     OK,     OK,     DENIED, DENIED, DENIED),
    "POST reviewer:profile_fetch":          (LOGIN_, DENIED, DENIED, LOGIN_, OK,     OK,     OK,     OK,     DENIED, DENIED, DENIED),
    "GET panel:reviewer_profile":           (LOGIN_, DENIED, DENIED, LOGIN_, DENIED, DENIED, DENIED, DENIED, OK,     DENIED, OK),
    "POST panel:reviewer_identifiers":      (LOGIN_, DENIED, DENIED, LOGIN_, DENIED, DENIED, DENIED, DENIED, OK,     DENIED, OK),
    "POST panel:reviewer_import":           (LOGIN_, DENIED, DENIED, LOGIN_, DENIED, DENIED, DENIED, DENIED, OK,     DENIED, OK),
    "POST panel:reviewer_fetch":            (LOGIN_, DENIED, DENIED, LOGIN_, DENIED, DENIED, DENIED, DENIED, OK,     DENIED, OK),
    # #20 affinity: rows here (keep this comment).
    "POST panel:affinities_compute":        (LOGIN_, DENIED, DENIED, LOGIN_, DENIED, DENIED, DENIED, DENIED, OK,     DENIED, OK),
    "GET panel:affinity_state":             (LOGIN_, DENIED, DENIED, LOGIN_, DENIED, DENIED, DENIED, DENIED, OK,     DENIED, OK),
    # #20 solver: rows here (keep this comment).
    "GET reviewer:availability":            (LOGIN_, DENIED, DENIED, LOGIN_, OK,     OK,     OK,     OK,     DENIED, DENIED, DENIED),
    "POST reviewer:availability":           (LOGIN_, DENIED, DENIED, LOGIN_, OK,     OK,     OK,     OK,     DENIED, DENIED, DENIED),
    "POST reviewer:availability_delete":    (LOGIN_, DENIED, DENIED, LOGIN_, OK,     DENIED, DENIED, DENIED, DENIED, DENIED, DENIED),
    "POST panel:default_cap":               (LOGIN_, DENIED, DENIED, LOGIN_, DENIED, DENIED, DENIED, DENIED, OK,     DENIED, OK),
    "POST panel:reviewer_cap":              (LOGIN_, DENIED, DENIED, LOGIN_, DENIED, DENIED, DENIED, DENIED, OK,     DENIED, OK),
    # #20 coauthors: rows here (keep this comment).
    "GET panel:conflict_dismiss":           (LOGIN_, DENIED, DENIED, LOGIN_, DENIED, DENIED, DENIED, DENIED, OK,     DENIED, OK),
    "POST panel:conflict_dismiss":          (LOGIN_, DENIED, DENIED, LOGIN_, DENIED, DENIED, DENIED, DENIED, OK,     DENIED, OK),
    # #20 bids: rows here (keep this comment).
    # Bidding (open): every active reviewer of the institute's pool, the conflicted one seeing that proposal final.
    "GET reviewer:bids":                    (LOGIN_, DENIED, DENIED, LOGIN_, OK,     OK,     OK,     OK,     DENIED, DENIED, DENIED),
    "POST reviewer:bids":                   (LOGIN_, DENIED, DENIED, LOGIN_, OK,     OK,     OK,     OK,     DENIED, DENIED, DENIED),
    "POST panel:bidding":                   (LOGIN_, DENIED, DENIED, LOGIN_, DENIED, DENIED, DENIED, DENIED, OK,     DENIED, OK),
    "POST panel:suggestion_accept":         (LOGIN_, DENIED, DENIED, LOGIN_, DENIED, DENIED, DENIED, DENIED, OK,     DENIED, OK),
    "POST panel:suggestion_dismiss":        (LOGIN_, DENIED, DENIED, LOGIN_, DENIED, DENIED, DENIED, DENIED, OK,     DENIED, OK),
    # #20 outcome: rows here (keep this comment).
    # Offline reading: any reviewer (a page when there is nothing); the content is checked below.
    "GET reviewer:download_all":            (LOGIN_, DENIED, DENIED, LOGIN_, OK,     OK,     OK,     OK,     DENIED, DENIED, DENIED),
    # The directorate's pages in the admin.
    "GET admin:reviews_staff_calls":        (LOGIN_, DENIED, DENIED, LOGIN_, DENIED, DENIED, DENIED, DENIED, DENIED, DENIED, OK),
    "GET admin:reviews_screening":          (LOGIN_, DENIED, DENIED, LOGIN_, DENIED, DENIED, DENIED, DENIED, DENIED, DENIED, OK),
    "POST admin:reviews_screening":         (LOGIN_, DENIED, DENIED, LOGIN_, DENIED, DENIED, DENIED, DENIED, DENIED, DENIED, OK),
    "GET admin:reviews_screening_export":   (LOGIN_, DENIED, DENIED, LOGIN_, DENIED, DENIED, DENIED, DENIED, DENIED, DENIED, OK),
    "GET admin:reviews_decisions_export":   (LOGIN_, DENIED, DENIED, LOGIN_, DENIED, DENIED, DENIED, DENIED, DENIED, DENIED, OK),
    "GET admin:reviews_review_export":      (LOGIN_, DENIED, DENIED, LOGIN_, DENIED, DENIED, DENIED, DENIED, DENIED, DENIED, OK),
    "GET admin:reviews_decisions":          (LOGIN_, DENIED, DENIED, LOGIN_, DENIED, DENIED, DENIED, DENIED, DENIED, DENIED, OK),
    "POST admin:reviews_decisions":         (LOGIN_, DENIED, DENIED, LOGIN_, DENIED, DENIED, DENIED, DENIED, DENIED, DENIED, OK),
    "GET admin:reviews_decisions_notify":   (LOGIN_, DENIED, DENIED, LOGIN_, DENIED, DENIED, DENIED, DENIED, DENIED, DENIED, OK),
    "POST admin:reviews_decisions_notify":  (LOGIN_, DENIED, DENIED, LOGIN_, DENIED, DENIED, DENIED, DENIED, DENIED, DENIED, OK),
    "GET admin:reviews_evaluation_summary": (LOGIN_, DENIED, DENIED, LOGIN_, DENIED, DENIED, DENIED, DENIED, DENIED, DENIED, OK),
    # The PI's own pages: PI and staff only.
    "GET proposals:detail":                 (LOGIN_, OK,     DENIED, LOGIN_, DENIED, DENIED, DENIED, DENIED, DENIED, DENIED, OK),
    "GET proposals:letter":                 (LOGIN_, OK,     DENIED, LOGIN_, DENIED, DENIED, DENIED, DENIED, DENIED, DENIED, OK),
    "GET proposals:receipt":                (LOGIN_, OK,     DENIED, LOGIN_, DENIED, DENIED, DENIED, DENIED, DENIED, DENIED, OK),
}

EXPECTED = {(role, url): row[i] for url, row in TABLE.items() for i, role in enumerate(ROLES)}
assert all(len(row) == len(ROLES) for row in TABLE.values()), "every row of TABLE has one entry per role"

# What an allowed POST must change (so that "ok" is the action done, not a polite refusal).
EFFECTS = {
    "POST reviewer:accept": "assignments", "POST reviewer:decline": "assignments",
    "POST reviewer:declare_conflict": "conflicts", "POST reviewer:review": "reviews",
    "POST reviewer:review_autosave": "reviews", "POST panel:rank": "recommendations",
    "POST panel:proposal": "recommendations", "POST panel:assign": "assignments",
    "POST panel:assign_many": "assignments", "POST panel:conflict": "conflicts",
    "POST panel:reviewer_add": "reviewers", "POST panel:reviewer_deactivate": "reviewers",
    "POST panel:auto_assign": "jobs", "POST panel:conflict_dismiss": "conflicts",
    "POST admin:reviews_decisions": "decisions",
    "POST reviewer:bids": "bids", "POST panel:bidding": "panels", "POST panel:suggestion_accept": "suggestions",
    "POST panel:suggestion_dismiss": "suggestions",
    "POST reviewer:profile_identifiers": "profiles", "POST reviewer:profile_expertise": "profiles",
    "POST reviewer:profile_import": "profiles", "POST reviewer:profile_publication_delete": "profiles",
    "POST panel:reviewer_identifiers": "profiles", "POST panel:reviewer_import": "profiles",
}
# The assigned reviewer already accepted: accepting or declining again is answered, and changes nothing.
NO_EFFECT = {("assigned", "POST reviewer:accept"), ("assigned", "POST reviewer:decline")}
# The conflicted reviewer's bids page shows the proposal as final, without a choice: their bid on it is not taken.
NO_EFFECT |= {("conflicted", "POST reviewer:bids")}

# The downloads.
DOWNLOADS = ("GET reviewer:letter", "GET panel:export", "GET panel:proposals_export", "GET panel:reviews_export",
             "GET admin:reviews_evaluation_summary", "GET admin:reviews_screening_export",
             "GET admin:reviews_decisions_export", "GET admin:reviews_review_export")


# ---------------------------------------------------------------------------------------------------------------
# The world: one proposal in review, its panel, the other panel of the call, one user per role
# ---------------------------------------------------------------------------------------------------------------

@dataclass
class World:
    proposal: Proposal
    letter: SupportLetter
    panel: object
    other_panel: object
    users: dict
    assignments: dict  # role → the assignment of that reviewer on the proposal
    pool_reviewer: Reviewer  # the unassigned reviewer: the target of assign, conflict, deactivate
    review: Review  # the assigned reviewer's draft, opened
    token: str  # the partner's invitation link


@pytest.fixture
def world():
    now = timezone.now()
    institute, other_institute = InstituteFactory(), InstituteFactory()
    proposal = eligible_proposal(unit=UnitFactory(main_institute=institute))  # the one small PDF: the letter
    Proposal.objects.filter(pk=proposal.pk).update(state=ProposalState.IN_REVIEW)
    proposal.refresh_from_db()
    call = proposal.call

    panel = PanelFactory(call=call, institute=institute)
    other_panel = PanelFactory(call=call, institute=other_institute)
    officer, other_officer = UserFactory(), UserFactory()
    for user, its_panel in ((officer, panel), (other_officer, other_panel)):
        activate_totp(user)
        its_panel.officers.add(user)

    def reviewer():
        return ReviewerFactory(institute=institute)

    assigned, invited, unassigned, conflicted = reviewer(), reviewer(), reviewer(), reviewer()
    assignments = {
        "assigned": AssignmentFactory(proposal=proposal, panel=panel, reviewer=assigned),
        "invited": AssignmentFactory(proposal=proposal, panel=panel, reviewer=invited, state=AssignmentState.INVITED),
        "conflicted": AssignmentFactory(proposal=proposal, panel=panel, reviewer=conflicted),
    }
    # Recorded without withdrawing the assignment: the rules' conflict check alone must close access.
    Conflict.objects.create(proposal=proposal, reviewer=conflicted, source="officer", cause="officer", created_at=now)
    review = review_open(assignment_id=assignments["assigned"].pk, user=assigned.user, now=now)

    invitation = PartnerInvitation.objects.create(
        proposal=proposal, email=proposal.partner_email, language="en", created_at=now, created_by=proposal.pi,
        expires_at=now + dt.timedelta(days=7),
    )
    users = {
        "pi": proposal.pi, "other_pi": UserFactory(), "assigned": assigned.user, "invited": invited.user,
        "unassigned": unassigned.user, "conflicted": conflicted.user, "officer": officer,
        "other_officer": other_officer, "staff": StaffFactory(),
    }
    return World(
        proposal=proposal, letter=SupportLetter.objects.get(proposal=proposal), panel=panel, other_panel=other_panel,
        users=users, assignments=assignments, pool_reviewer=unassigned, review=review,
        token=proposals_domain.invitation_token(invitation),
    )


def client_for(world, role) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    if role == "partner":
        page = client.get(reverse("proposals:partner", args=[world.token]))
        assert page.status_code == 200, "the partner's invitation link must be valid for this test"
        assert world.proposal.reference.encode() in page.content
    elif role != "anonymous":
        client.force_login(world.users[role])
    return client


def request_for(world, role, key):
    """(method, path, data) of one row of TABLE, as this role would send it. Reviewer URLs carry an
    assignment: a reviewer's own on the proposal, else the assigned reviewer's (someone else's)."""
    method, name = key.split(" ")
    proposal, panel = world.proposal, world.panel
    assignment = world.assignments.get(role, world.assignments["assigned"])
    call = proposal.call
    namespace, short = name.split(":")
    if namespace == "reviewer" and short == "bids":
        Panel.objects.filter(pk=panel.pk).update(bidding_open=True)
        return method, reverse(name, args=[panel.pk]), {f"bid-{proposal.pk}": "eager"} if method == "POST" else {}
    if namespace == "reviewer" and short.startswith("profile"):
        return _profile_request(world, role, method, name, short)
    if namespace == "reviewer" and short.startswith("availability"):
        # #20 solver: one's own absences; the period to delete is the assigned reviewer's.
        today = timezone.localdate()
        if short == "availability_delete":
            period, _ = Unavailability.objects.get_or_create(
                user=world.assignments["assigned"].reviewer.user, starts_on=today, ends_on=today + dt.timedelta(days=3))
            return method, reverse(name, args=[period.pk]), {}
        data = {"starts_on": today + dt.timedelta(days=10), "ends_on": today + dt.timedelta(days=12)}
        return method, reverse(name), data if method == "POST" else {}
    if namespace == "reviewer":
        args = [] if short in ("assignments", "download_all") else [assignment.pk]
        data = {
            "decline": {"decline-reason": "Too busy this month."},
            "declare_conflict": {"conflict-reason": "A joint paper last year."},
            "review": {"lock_version": world.review.lock_version, "comment_for_pi": "Typed by someone."},
            "review_autosave": {"lock_version": world.review.lock_version, "comment_for_pi": "Typed by someone."},
        }.get(short, {})
        return method, reverse(name, args=args), data
    if namespace == "panel":
        args = {
            "list": [], "proposal": [panel.pk, proposal.pk],
            "reviewer_deactivate": [panel.pk, world.pool_reviewer.pk],
            "reviewer_profile": [panel.pk, world.pool_reviewer.pk],
            "reviewer_identifiers": [panel.pk, world.pool_reviewer.pk],
            "reviewer_import": [panel.pk, world.pool_reviewer.pk],
            "reviewer_fetch": [panel.pk, world.pool_reviewer.pk],
            "reviewer_cap": [panel.pk, world.pool_reviewer.pk],
        }.get(short, [panel.pk])
        if short == "conflict_dismiss":  # a co-author match on a name, of a reviewer of the pool not in the world
            other = ReviewerFactory(institute=panel.institute)
            args = [panel.pk, Conflict.objects.create(
                proposal=proposal, reviewer=other, source="detected", cause="coauthor_name", created_at=timezone.now(),
                detail="Jean Dupont = “Dupont, J.” — “Dunes”, 2025").pk]
        if short in ("suggestion_accept", "suggestion_dismiss"):
            args = [panel.pk, _suggestion(world).pk]
        data = {
            "rank": {f"rank-{proposal.pk}": "1"},
            "proposal": {"recommendation": "fund", "proposed_amount": "12000", "consensus": "A strong project."},
            "assign": {"proposal": proposal.pk, "reviewer": world.pool_reviewer.pk},
            "assign_many": {"many-proposals": [proposal.pk], "many-reviewer": world.pool_reviewer.pk, "apply": "1"},
            "conflict": {"conflict-proposal": proposal.pk, "conflict-reviewer": world.pool_reviewer.pk,
                         "conflict-reason": "Co-author."},
            "reviewer_add": {"email": "newcomer@example.org", "full_name": "New Comer"},
            "conflict_dismiss": {"reason": "Another person of the same name."},
            "bidding": {"open": "1"},
            "reviewer_identifiers": {"orcid": "0000-0002-1825-0097", "hal_id": "new-comer"},
            "reviewer_import": {"file": _bibtex_upload()},
            "reviewer_fetch": {"source": "hal"},  # online import is off in tests: allowed, answered, nothing saved
            "default_cap": {"max_reviews": "4"},
            "reviewer_cap": {"max_reviews": "2"},
        }.get(short, {}) if method == "POST" else {}
        return method, reverse(name, args=args), data
    if namespace == "admin":
        args = {"reviews_staff_calls": [], "reviews_review_export": [],
                "reviews_evaluation_summary": [proposal.pk]}.get(short, [call.pk])
        data = {
            "reviews_screening": {"proposal": proposal.pk, "verdict": "ineligible", "reason": "Out of scope."},
            # The world's proposal has no review yet: staff decide with a reason (funding.domain.decisions).
            "reviews_decisions": {"proposal": proposal.pk, "outcome": "rejected",
                                  "override_reason": "Out of the programme's scope."},
        }.get(short, {}) if method == "POST" else {}
        return method, reverse(name, args=args), data
    args = {
        "detail": [proposal.pk], "letter": [proposal.pk, world.letter.pk], "receipt": [proposal.pk, 1],
    }[short]
    return method, reverse(name, args=args), {}


def _suggestion(world) -> ReviewerSuggestion:
    """A colleague suggested by a reviewer of the panel who declined the proposal."""
    declined = AssignmentFactory(proposal=world.proposal, panel=world.panel, state=AssignmentState.DECLINED,
                                 reviewer=ReviewerFactory(institute=world.panel.institute))
    return ReviewerSuggestion.objects.create(assignment=declined, panel=world.panel, name="Ada Lovelace",
                                             email="ada@lab.example.org", created_at=timezone.now())


def _bibtex_upload():
    return SimpleUploadedFile("hal.bib", b"@article{x:hal-1,\n  TITLE = {{A paper}},\n  AUTHOR = {Doe, Jane},\n"
                                         b"  YEAR = {2024},\n  HAL_ID = {hal-imported},\n}\n")


def _profile_request(world, role, method, name, short):
    """The reviewer's profile URLs: their own reviewer row and publication, or (for someone in no pool) the
    unassigned reviewer's."""
    user = world.users.get(role)
    own = Reviewer.objects.filter(user=user).first() if user is not None else None
    target = own or world.pool_reviewer
    args = []
    if short == "profile_expertise":
        args = [target.pk]
    elif short == "profile_publication_delete":
        args = [Publication.objects.create(user=target.user, source="hal_bibtex", key="hal:hal-to-delete",
                                           title="A paper to delete", imported_at=timezone.now()).pk]
    data = {
        "profile_identifiers": {"orcid": "0000-0002-1825-0097", "hal_id": "jane-doe"},
        "profile_expertise": {f"r{target.pk}-keywords": "ecology, food webs", f"r{target.pk}-sections": "29"},
        "profile_import": {"file": _bibtex_upload()},
        "profile_fetch": {"source": "orcid"},
    }.get(short, {}) if method == "POST" else {}
    return method, reverse(name, args=args), data


def state_of_the_database(world):
    """Everything a review action could change."""
    return {
        "assignments": list(Assignment.objects.order_by("pk").values_list("pk", "state", "decline_reason", "responded_at")),
        "conflicts": list(Conflict.objects.order_by("pk").values_list("pk", "proposal_id", "reviewer_id")),
        "reviews": list(Review.objects.order_by("pk").values_list("pk", "state", "lock_version", "updated_at",
                                                                  "comment_for_pi")),
        "scores": list(Score.objects.order_by("pk").values_list("pk", "score", "comment")),
        "reviewers": list(Reviewer.objects.order_by("pk").values_list("pk", "active")),
        "recommendations": list(PanelRecommendation.objects.order_by("pk").values_list("pk", "rank", "recommendation")),
        "decisions": list(Decision.objects.order_by("pk").values_list("pk", "outcome", "notified_at")),
        "proposals": list(Proposal.objects.order_by("pk").values_list("pk", "state")),
        "users": list(get_user_model().objects.order_by("pk").values_list("pk", flat=True)),
        "jobs": list(AssignmentJob.objects.order_by("pk").values_list("pk", "state")),
        "bids": list(Bid.objects.order_by("pk").values_list("pk", "value")),
        "panels": list(Panel.objects.order_by("pk").values_list("pk", "bidding_open", "default_max_reviews")),
        "suggestions": list(ReviewerSuggestion.objects.order_by("pk").values_list("pk", "handled_at")),
        "profiles": [list(get_user_model().objects.order_by("pk").values_list("pk", "orcid", "hal_id")),
                     list(Reviewer.objects.order_by("pk").values_list("pk", "keywords", "sections")),
                     list(Publication.objects.order_by("pk").values_list("pk", "key"))],
        "caps": list(ReviewerCap.objects.order_by("pk").values_list("pk", "max_reviews")),
        "absences": list(Unavailability.objects.order_by("pk").values_list("pk", "starts_on", "ends_on")),
        "audit": AuditEntry.objects.count(),
        "mails": len(mail.outbox),
    }


# ---------------------------------------------------------------------------------------------------------------
# The matrix
# ---------------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("role", "key"), list(EXPECTED), ids=[f"{r}-{k.replace(' ', '-')}" for r, k in EXPECTED])
def test_access_matrix(world, role, key):
    method, path, data = request_for(world, role, key)
    effect = EFFECTS.get(key) if (role, key) not in NO_EFFECT else None
    response = check_cell(client=client_for(world, role), role=role, key=key, expected=EXPECTED[(role, key)],
                          method=method, path=path, data=data, state=lambda: state_of_the_database(world), effect=effect)
    _check_list_content(world, role, key, response)


def _check_list_content(world, role, key, response):
    """The list pages answer everyone with the role, but show only their own items."""
    if key == "GET reviewer:assignments" and response.status_code == 200:
        shown = world.proposal.reference.encode() in response.content
        assert shown == (role in ("assigned", "invited")), (
            f"{role}'s list of reviews {'shows' if shown else 'does not show'} {world.proposal.reference}")
    if key == "GET reviewer:bids" and response.status_code == 200:
        # The pool sees the proposal to mark; the conflicted reviewer sees it marked as a conflict, without a choice.
        assert [(row.pk, row.final) for row in response.context["rows"]] == [(world.proposal.pk, role == "conflicted")]
        assert (f'name="bid-{world.proposal.pk}"'.encode() in response.content) == (role != "conflicted")
    if key == "GET panel:list" and response.status_code == 200:
        ours = reverse("panel:table", args=[world.panel.pk]).encode()
        theirs = reverse("panel:table", args=[world.other_panel.pk]).encode()
        assert (ours in response.content) == (role in ("officer", "staff")), f"{role}'s panel list and this panel"
        assert (theirs in response.content) == (role in ("other_officer", "staff")), f"{role}'s panel list and the other"
        if role == "officer":
            assert [p.pk for p in response.context["panels"]] == [world.panel.pk]


def test_the_table_covers_every_review_url():
    """A URL added to the reviewer or panel pages, or to the directorate's admin pages, must get a row."""
    from reviews.urls import officer as urls_officer
    from reviews.urls import reviewer as urls_reviewer

    names = {f"reviewer:{p.name}" for p in urls_reviewer.urlpatterns} | {f"panel:{p.name}" for p in urls_officer.urlpatterns}
    names |= {"admin:reviews_staff_calls", "admin:reviews_screening", "admin:reviews_decisions",
              "admin:reviews_decisions_notify", "admin:reviews_evaluation_summary", "admin:reviews_screening_export",
              "admin:reviews_decisions_export", "admin:reviews_review_export"}
    covered = {key.split(" ")[1] for key in TABLE}
    assert names - covered == set()


# ---------------------------------------------------------------------------------------------------------------
# A conflict declared mid-review revokes access on the next request
# ---------------------------------------------------------------------------------------------------------------

def _submit_review(assignment, review):
    user, now = assignment.reviewer.user, timezone.now()
    review_save_draft(
        review_id=review.pk, user=user, lock_version=review.lock_version, now=now,
        data={"comment_for_pi": "Sound plan.", "confidential_comment": "Between us.", "recommendation": "fund"},
        scores={s.criterion_id: (Decimal(4), "Fine.") for s in review.scores.all()},
    )
    review_submit(review_id=review.pk, user=user, now=now)


def _reviews_done(client, world) -> int:
    page = client.get(reverse("panel:table", args=[world.panel.pk]))
    assert page.status_code == 200
    (row,) = [row for row in page.context["rows"] if row.proposal.pk == world.proposal.pk]
    return row.reviews_done


def test_a_conflict_declared_mid_review_revokes_access_on_the_next_request(world):
    assignment = world.assignments["assigned"]
    _submit_review(assignment, world.review)
    officer = client_for(world, "officer")
    assert _reviews_done(officer, world) == 1

    reviewer = client_for(world, "assigned")
    pages = {name: reverse(f"reviewer:{name}", args=[assignment.pk]) for name in ("proposal", "letter", "review")}
    assert reviewer.get(pages["review"]).status_code == 200
    assert reviewer.get(pages["proposal"]).status_code == 200

    response = reviewer.post(reverse("reviewer:declare_conflict", args=[assignment.pk]),
                             {"conflict-reason": "I just learnt the partner is my former student."})
    assert (response.status_code, response["Location"]) == (302, reverse("reviewer:assignments"))

    for name, path in pages.items():
        got = reviewer.get(path).status_code
        assert got == 410, f"after declaring a conflict, GET reviewer:{name} gave {got}, expected 410 (explained)"
    assert reviewer.get(reverse("reviewer:invitation", args=[assignment.pk])).status_code == 410
    listed = reviewer.get(reverse("reviewer:assignments")).context["assignments"]
    assert [a.pk for a in listed] == [], "the conflicted assignment is still listed"
    assert _reviews_done(officer, world) == 0, "the officer's table still counts the conflicted reviewer's review"


# ---------------------------------------------------------------------------------------------------------------
# Two-factor authentication first
# ---------------------------------------------------------------------------------------------------------------

REVIEWER_KEYS = [key for key in TABLE if " reviewer:" in key]
PANEL_KEYS = [key for key in TABLE if " panel:" in key]


@pytest.mark.parametrize("key", REVIEWER_KEYS)
def test_a_reviewer_without_totp_is_sent_to_set_it_up_on_every_reviewer_page(world, key):
    assignment = AssignmentFactory(proposal=world.proposal, panel=world.panel,
                                   reviewer=ReviewerFactory(institute=world.panel.institute, mfa=False))
    world.assignments["no_totp"] = assignment
    client = Client()
    client.force_login(assignment.reviewer.user)
    method, path, data = request_for(world, "no_totp", key)
    before = state_of_the_database(world)
    response = send(client, method, path, data)
    assert (response.status_code, response.get("Location")) == (302, setup_for(method, path)), key
    assert state_of_the_database(world) == before


def setup_for(method: str, path: str) -> str:
    """The set-up, with the page to come back to; a form's POST has none (``iea.mfa``)."""
    return f"{MFA_SETUP}?{urlencode({'next': path})}" if method.lower() == "get" else MFA_SETUP


@pytest.mark.parametrize("key", PANEL_KEYS)
def test_an_officer_without_totp_is_sent_to_set_it_up_on_every_panel_page(world, key):
    officer = UserFactory()
    world.panel.officers.add(officer)
    client = Client()
    client.force_login(officer)
    method, path, data = request_for(world, "officer", key)
    before = state_of_the_database(world)
    response = send(client, method, path, data)
    assert (response.status_code, response.get("Location")) == (302, setup_for(method, path)), key
    assert state_of_the_database(world) == before


# ---------------------------------------------------------------------------------------------------------------
# Downloads: attachments for those allowed (the matrix refuses the others and checks they got no file)
# ---------------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("role", "key"), [(r, k) for k in DOWNLOADS for r in ROLES if EXPECTED[(r, k)] == OK])
def test_downloads_are_attachments(world, role, key):
    client = client_for(world, role)
    method, path, data = request_for(world, role, key)
    response = send(client, method, path, data)
    assert response.status_code == 200
    disposition = response.get("Content-Disposition", "")
    assert disposition.startswith("attachment;"), (
        f"{key} for {role}: Content-Disposition is {disposition!r}, expected an attachment")
    assert 'filename="' in disposition
    body = b"".join(response.streaming_content) if response.streaming else response.content
    assert body[:4] in (b"%PDF", b"PK\x03\x04"), f"{key}: not a PDF nor an XLSX"


@pytest.mark.parametrize("role", ["assigned", "invited", "unassigned", "conflicted"])
def test_offline_reading_gives_a_zip_only_to_the_reviewer_reading_the_proposal(world, role):
    """The reviewers the matrix lets in: only the assigned one gets a ZIP (with the proposal); the others get
    the page saying there is nothing, and no file."""
    response = client_for(world, role).get(reverse("reviewer:download_all"))
    assert response.status_code == 200
    if role == "assigned":
        body = b"".join(response.streaming_content)
        assert (body[:4], response["Content-Disposition"].startswith("attachment;")) == (b"PK\x03\x04", True)
        assert f"{world.proposal.reference}.pdf".encode() in body
    else:
        assert ("Content-Disposition" in response, b'id="offline-empty"' in response.content) == (False, True)


# ---------------------------------------------------------------------------------------------------------------
# An officer cannot reach this proposal through their own panel
# ---------------------------------------------------------------------------------------------------------------

def test_another_officer_cannot_reach_the_proposal_through_their_own_panel(world):
    client = client_for(world, "other_officer")
    theirs = world.other_panel.pk
    assert client.get(reverse("panel:proposal", args=[theirs, world.proposal.pk])).status_code == 404
    before = state_of_the_database(world)
    client.post(reverse("panel:assign", args=[theirs]), {"proposal": world.proposal.pk, "reviewer": world.pool_reviewer.pk})
    client.post(reverse("panel:conflict", args=[theirs]), {
        "conflict-proposal": world.proposal.pk, "conflict-reviewer": world.pool_reviewer.pk, "conflict-reason": "x"})
    client.post(reverse("panel:rank", args=[theirs]), {f"rank-{world.proposal.pk}": "1"})
    client.post(reverse("panel:reviewer_deactivate", args=[theirs, world.pool_reviewer.pk]))
    assert state_of_the_database(world) == before
    table = client.get(reverse("panel:table", args=[theirs]))
    assert world.proposal.reference.encode() not in table.content
