"""Funding data built through the domain: a selected proposal, its decision, then ``award_create``.

``award_factory`` is the one way tests get an award, so every award has the tranches and reports the
domain creates, not a hand-made approximation of them.
"""

import datetime as dt
from decimal import Decimal

from django.utils import timezone

from funding.domain.acceptance import award_accept
from funding.domain.awards import award_create
from funding.models import Award
from proposals.models import Proposal, ProposalState
from reviews.models import Decision, DecisionOutcome, Panel
from tests.factories import ProposalFactory, StaffFactory, UnitFactory, UserFactory, activate_totp


def award_factory(*, amount: Decimal = Decimal(12000), staff=None, now: dt.datetime | None = None,
                  accepted: bool = True, **kw) -> Award:
    """An award of ``amount`` for a complete proposal in state "selected", accepted by its PI (``accepted=False``:
    still awaiting the answer); ``kw`` goes to ``ProposalFactory`` (``pi=``, ``unit=``, ``call=``…)."""
    now = now or timezone.now()
    staff = staff or StaffFactory()
    proposal = ProposalFactory(complete=True, **kw)
    Proposal.objects.filter(pk=proposal.pk).update(state=ProposalState.SELECTED)
    decision = Decision.objects.create(
        proposal=proposal, outcome=DecisionOutcome.SELECTED, amount=amount, decided_at=now, decided_by=staff,
        notified_at=now,
    )
    award = award_create(decision=decision, user=staff, now=now)
    if not accepted:
        return award
    return award_accept(award_id=award.pk, user=award.proposal.pi, now=now)


def make_unit_manager(award: Award, user=None):
    """A manager of the award's unit (``award=None``: of a new, unrelated unit)."""
    user = user or UserFactory()
    (award.unit if award is not None else UnitFactory()).managers.add(user)
    return user


def make_panel_officer(award: Award | None, user=None):
    """An officer, with two-factor authentication, of the panel that evaluated the award's proposal
    (``award=None``: of another institute's panel)."""
    user = user or UserFactory()
    activate_totp(user)
    if award is not None:
        proposal = award.proposal
        panel, _created = Panel.objects.get_or_create(call=proposal.call, institute=proposal.institute)
    else:
        other = ProposalFactory(complete=True)
        panel, _created = Panel.objects.get_or_create(call=other.call, institute=other.institute)
    panel.officers.add(user)
    return user


def make_reviewer_user(award: Award):
    """A reviewer of the award's institute (with two-factor authentication), not on the award."""
    from reviews.models import Reviewer

    user = UserFactory()
    activate_totp(user)
    Reviewer.objects.create(user=user, institute=award.proposal.institute)
    return user


def cast(award: Award, *, staff=None) -> dict:
    """Everyone who may ask for an award's pages, by role: the one matrix of the permission tests."""
    return {
        "pi": award.proposal.pi,
        "other_pi": award_factory(staff=staff).proposal.pi,
        "reviewer": make_reviewer_user(award),
        "other_unit_manager": make_unit_manager(None),
        "unit_manager": make_unit_manager(award),
        "officer": make_panel_officer(award),
        "other_officer": make_panel_officer(None),
        "staff": staff or StaffFactory(),
    }
