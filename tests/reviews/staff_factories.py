"""Review data built from the models, for the directorate's screening and decision tests."""

import datetime as dt
from decimal import Decimal

from django.utils import timezone

from calls.models import CallState, Criterion
from proposals.models import Proposal, ProposalState, SupportLetter
from reviews.models import (
    Assignment,
    AssignmentState,
    Panel,
    PanelRecommendation,
    Review,
    Reviewer,
    ReviewState,
    Score,
)
from tests.factories import CallFactory, InstituteFactory, ProposalFactory, UnitFactory, UserFactory


def closed_call(**kwargs):
    """A call whose deadline passed yesterday (closed by staff unless ``state`` says otherwise)."""
    now = timezone.now()
    kwargs.setdefault("state", CallState.CLOSED)
    return CallFactory(opens_at=now - dt.timedelta(days=60), closes_at=now - dt.timedelta(days=1), **kwargs)


def add_letter(proposal: Proposal) -> SupportLetter:
    return SupportLetter.objects.create(
        proposal=proposal, file=f"letters/{proposal.pk}/letter.pdf", original_name="letter.pdf", size=1000,
        sha256="0" * 64, pages=1, uploaded_at=proposal.call.opens_at + dt.timedelta(days=1),
    )


def set_state(proposal: Proposal, state: str, **fields) -> Proposal:
    Proposal.objects.filter(pk=proposal.pk).update(state=state, **fields)
    proposal.refresh_from_db()
    return proposal


def submitted_proposal(call, *, letter: bool = True, **kwargs) -> Proposal:
    """A complete proposal, submitted two days before the call's closing time."""
    kwargs.setdefault("complete", True)
    proposal = ProposalFactory(call=call, **kwargs)
    if letter:
        add_letter(proposal)
    return set_state(proposal, ProposalState.SUBMITTED, submitted_at=call.closes_at - dt.timedelta(days=2))


def panel_for(call, institute) -> Panel:
    panel, _created = Panel.objects.get_or_create(call=call, institute=institute)
    return panel


def make_reviewer(institute, *, name: str, email: str, institution: str = "") -> Reviewer:
    user = UserFactory(email=email, full_name=name)
    return Reviewer.objects.create(user=user, institute=institute, institution=institution)


def make_review(
    proposal: Proposal, reviewer: Reviewer, *, scores: list, comment_for_pi: str = "", confidential: str = "",
    state: str = ReviewState.SUBMITTED, criterion_comment: str = "",
) -> Review:
    """A review with one score per criterion of the call, in the criteria's order (``None`` for no score)."""
    now = timezone.now()
    panel = panel_for(proposal.call, proposal.institute)
    assignment = Assignment.objects.create(
        panel=panel, proposal=proposal, reviewer=reviewer, state=AssignmentState.ACCEPTED, due_at=now, created_at=now,
    )
    review = Review.objects.create(
        assignment=assignment, proposal=proposal, reviewer=reviewer, state=state, comment_for_pi=comment_for_pi,
        confidential_comment=confidential, created_at=now, updated_at=now,
        submitted_at=now if state == ReviewState.SUBMITTED else None,
    )
    criteria = list(Criterion.objects.filter(call=proposal.call).order_by("position"))
    Score.objects.bulk_create(
        Score(review=review, criterion=criterion, max_score=Decimal(5), comment=criterion_comment,
              score=None if value is None else Decimal(str(value)))
        for criterion, value in zip(criteria, scores, strict=False)
    )
    return review


def recommend(proposal: Proposal, *, rank: int | None, recommendation: str = "fund",
              proposed_amount: Decimal | None = Decimal(12000), consensus: str = "") -> PanelRecommendation:
    panel = panel_for(proposal.call, proposal.institute)
    return PanelRecommendation.objects.create(
        proposal=proposal, panel=panel, rank=rank, recommendation=recommendation, proposed_amount=proposed_amount,
        consensus=consensus, updated_at=timezone.now(),
    )


def ranked_proposal(call, *, institute=None, rank: int | None = 1, recommendation: str = "fund",
                    proposed_amount: Decimal | None = Decimal(12000), reviews: int = 2, **kwargs) -> Proposal:
    """A ranked proposal of ``institute`` with ``reviews`` submitted reviews and the panel's recommendation."""
    institute = institute or InstituteFactory()
    proposal = submitted_proposal(call, unit=UnitFactory(main_institute=institute), **kwargs)
    proposal = set_state(proposal, ProposalState.RANKED)
    for n in range(reviews):
        reviewer = make_reviewer(institute, name=f"Reviewer {proposal.pk}-{n}", email=f"r{proposal.pk}-{n}@example.org")
        make_review(proposal, reviewer, scores=[4, 3.5, 4, 3, 5, 4])
    recommend(proposal, rank=rank, recommendation=recommendation, proposed_amount=proposed_amount)
    return proposal
