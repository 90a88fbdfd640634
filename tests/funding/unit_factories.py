"""Awards for the unit manager's tests, made the way production makes them: a selected proposal with its
decision, then ``award_create``; the manager is added to the managing unit."""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.utils import timezone

from funding.domain.acceptance import award_accept
from funding.domain.awards import award_create, tranche_release
from funding.models import Award, Tranche
from proposals.models import ProposalState
from reviews.models import Decision
from tests.factories import ProposalFactory, StaffFactory, UserFactory


@dataclass
class UnitAward:
    award: Award
    manager: object
    staff: object

    @property
    def pi(self):
        return self.award.proposal.pi

    @property
    def unit(self):
        return self.award.unit

    def tranche(self, number: int) -> Tranche:
        return self.award.tranches.get(number=number)

    def release(self, number: int = 1, *, now: dt.datetime | None = None) -> Tranche:
        return tranche_release(tranche_id=self.tranche(number).pk, user=self.staff, now=now or timezone.now())


def unit_award(*, manager=None, staff=None, amount: Decimal = Decimal(12000), now: dt.datetime | None = None,
               **proposal_fields) -> UnitAward:
    """A funded award, accepted by its PI, managed by the PI's unit, with ``manager`` (a new user by default)
    among its managers. Decided 4 months ago by default, so that the award has started and spending can be
    dated in it (an expense is recorded once paid, never in the future)."""
    now = now or timezone.now() - dt.timedelta(days=120)
    staff = staff or StaffFactory()
    manager = manager or UserFactory()
    proposal = ProposalFactory(complete=True, state=ProposalState.SELECTED, **proposal_fields)
    decision = Decision.objects.create(
        proposal=proposal, outcome="selected", amount=amount, decided_by=staff, decided_at=now,
    )
    award = award_create(decision=decision, user=staff, now=now)
    award = award_accept(award_id=award.pk, user=award.proposal.pi, now=now)
    award.unit.managers.add(manager)
    return UnitAward(award=award, manager=manager, staff=staff)
