"""Awards built the way the platform builds them: a selected proposal, the directorate's decision, then
``award_create`` (so the tranches, reports and audit entries are the domain's, not a factory's guess)."""

import datetime as dt
from decimal import Decimal

from django.db.models import Sum
from django.utils import timezone

from funding.domain.acceptance import award_accept
from funding.domain.awards import award_create
from funding.models import Award, Report, ReportPeriod, ReportState, SpendingLine, Tranche
from proposals.models import ProposalState
from reviews.models import Decision
from tests.factories import ProposalFactory, StaffFactory


def selected_decision(*, amount: Decimal = Decimal(12000), decided_by=None, outcome: str = "selected",
                      **proposal_kwargs) -> Decision:
    """A complete proposal in state "selected" (or ``outcome``) and its decision."""
    proposal_kwargs.setdefault("complete", True)
    proposal = ProposalFactory(state=outcome if outcome in ProposalState.values else ProposalState.SELECTED,
                               **proposal_kwargs)
    return Decision.objects.create(
        proposal=proposal, outcome=outcome, amount=amount if outcome == "selected" else None,
        decided_by=decided_by or StaffFactory(), decided_at=timezone.now(),
    )


def make_award(*, amount: Decimal = Decimal(12000), user=None, now: dt.datetime | None = None,
               **proposal_kwargs) -> Award:
    """An award created by ``award_create`` from a selected decision of ``amount`` euros."""
    user = user or StaffFactory()
    decision = selected_decision(amount=amount, decided_by=user, **proposal_kwargs)
    award = award_create(decision=decision, user=user, now=now or timezone.now())
    return award_accept(award_id=award.pk, user=award.proposal.pi, now=now or timezone.now())


def tranche(award: Award, number: int) -> Tranche:
    return Tranche.objects.get(award=award, number=number)


def report(award: Award, period: str = ReportPeriod.YEAR_1) -> Report:
    return Report.objects.get(award=award, period=period)


def set_report_state(award: Award, period: str, state: str) -> Report:
    """Move a report as the PI and the partner would have (their steps are tested with the site's pages)."""
    now = timezone.now()
    fields = {"state": state}
    if state in (ReportState.SUBMITTED, ReportState.COSIGNED):
        fields["submitted_at"] = now
    if state == ReportState.COSIGNED:
        fields.update(cosigned_at=now, cosigned_by="Ana Souza <ana@usp.example.br>")
    Report.objects.filter(award=award, period=period).update(**fields)
    return report(award, period)


def tranche_total(award: Award) -> Decimal:
    return Tranche.objects.filter(award=award).aggregate(total=Sum("amount"))["total"] or Decimal(0)


def add_spending(award: Award, *, category: str, amount: Decimal, user=None, description: str = "Mission") -> SpendingLine:
    return SpendingLine.objects.create(
        award=award, date=award.start_date, category=category, amount=amount, description=description,
        recorded_at=timezone.now(), recorded_by=user or award.proposal.pi,
    )
