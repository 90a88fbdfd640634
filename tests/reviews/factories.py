"""Factories for the review: reviewers (with two-factor authentication), panels, assignments, and proposals
submitted and screened eligible through the real domain functions."""

import datetime as dt

import factory
from django.utils import timezone

from proposals import domain as proposals_domain
from proposals.letters import check_pdf
from proposals.models import Proposal, ProposalState
from reviews.models import Assignment, AssignmentState, Panel, Reviewer
from tests.factories import CallFactory, InstituteFactory, ProposalFactory, UserFactory, activate_totp
from tests.pdfs import pdf_upload


class ReviewerFactory(factory.django.DjangoModelFactory):
    """A reviewer in an institute's pool; the user has TOTP unless ``mfa=False``."""

    class Meta:
        model = Reviewer
        skip_postgeneration_save = True

    user = factory.SubFactory(UserFactory)
    institute = factory.SubFactory(InstituteFactory)

    @factory.post_generation
    def mfa(self, create, extracted, **kwargs):
        if create and extracted is not False:
            activate_totp(self.user)


class PanelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Panel
        django_get_or_create = ("call", "institute")

    call = factory.SubFactory(CallFactory)
    institute = factory.SubFactory(InstituteFactory)


class AssignmentFactory(factory.django.DjangoModelFactory):
    """An assignment written directly (no conflict detection, no mail); use ``assignment_create`` to test those."""

    class Meta:
        model = Assignment

    proposal = factory.LazyFunction(lambda: eligible_proposal())
    panel = factory.LazyAttribute(lambda o: PanelFactory(call=o.proposal.call, institute=o.proposal.institute))
    reviewer = factory.LazyAttribute(lambda o: ReviewerFactory(institute=o.proposal.institute))
    state = AssignmentState.ACCEPTED
    due_at = factory.LazyFunction(lambda: timezone.now() + dt.timedelta(days=21))
    created_at = factory.LazyFunction(timezone.now)


def eligible_proposal(**kwargs) -> Proposal:
    """A complete proposal with its support letter, submitted (version 1 frozen), then screened eligible."""
    proposal = ProposalFactory(complete=True, **kwargs)
    now = timezone.now()
    proposals_domain.letter_attach(proposal_id=proposal.pk, pdf=check_pdf(pdf_upload()), now=now, user=proposal.pi)
    proposals_domain.proposal_submit(proposal_id=proposal.pk, user=proposal.pi, now=now)
    Proposal.objects.filter(pk=proposal.pk).update(state=ProposalState.ELIGIBLE)
    proposal.refresh_from_db()
    return proposal
