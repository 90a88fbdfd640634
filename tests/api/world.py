"""One small, realistic world for the API's role-wide tests: an open call with a PI's draft (team, letter),
a proposal in review with an accepted assignment and a review begun, its panel's officer, an award with its
tranches and reports and its unit's manager, and staff. ``build_world(role)`` gives the role's user and
the ids of objects to aim at."""

from django.utils import timezone

from proposals import domain as proposals_domain
from proposals.letters import check_pdf
from reviews.domain.scoring import review_open
from tests.factories import CallFactory, ProposalFactory, StaffFactory
from tests.funding.factories import award_factory, make_panel_officer, make_unit_manager
from tests.pdfs import pdf_upload
from tests.reviews.factories import AssignmentFactory

ROLES = ["anonymous", "pi", "reviewer", "officer", "staff", "manager"]


def build_world(role: str) -> dict:
    now = timezone.now()
    staff = StaffFactory()
    call = CallFactory()
    draft = ProposalFactory(call=call, complete=True)
    member = draft.team.create(side="partner", name="Ana Souza")
    proposals_domain.letter_attach(proposal_id=draft.pk, pdf=check_pdf(pdf_upload()), now=now, user=draft.pi)
    assignment = AssignmentFactory()
    review = review_open(assignment_id=assignment.pk, user=assignment.reviewer.user, now=now)
    award = award_factory(staff=staff, pi=draft.pi)
    officer = make_panel_officer(award)
    assignment.panel.officers.add(officer)
    users = {
        "anonymous": None, "pi": draft.pi, "reviewer": assignment.reviewer.user, "officer": officer,
        "staff": staff, "manager": make_unit_manager(award),
    }
    return {
        "user": users[role], "users": users,
        "calls": call.year, "institutes": award.proposal.institute.pk, "units": award.unit.pk,
        "proposals": draft.reference, "team_member": member.pk,
        "assignments": assignment.pk, "reviews": review.pk, "panels": assignment.panel.pk,
        "awards": award.pk, "tranches": award.tranches.order_by("number").first().pk,
        "reports": award.reports.order_by("pk").first().pk,
    }
