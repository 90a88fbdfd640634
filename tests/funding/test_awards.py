"""Awards and tranches (domain.md, "Award → tranches"): creation from a selected decision, the gate of
tranche 2, changing planned tranches, and the rule that the tranches never exceed the award — checked by
the domain with a message, and refused by the database (a trigger, on SQLite and PostgreSQL) when a write
bypasses the domain.

Run on both databases: ``SQLITE_TEST_NAME=… pytest tests/funding`` and ``DATABASE_URL=postgres://…
REQUIRE_POSTGRES=1 pytest tests/funding``.
"""

import datetime as dt
import threading
import time
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.db import IntegrityError, close_old_connections, connection, transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from funding.domain.awards import (
    FundingError,
    award_create,
    award_set_state,
    split_amount,
    tranche_gate,
    tranche_release,
    tranche_update,
    tranche_withhold,
)
from funding.domain.reports import report_review
from funding.models import Award, AwardState, Report, ReportPeriod, ReportState, Tranche, TrancheState
from iea.audit.models import AuditEntry
from proposals.models import Proposal, ProposalState
from reviews.models import Decision
from tests.factories import CallFactory, ProposalFactory, StaffFactory, UnitFactory, UserFactory

from .admin_factories import make_award, report, selected_decision, set_report_state, tranche, tranche_total

pytestmark = pytest.mark.django_db
PARIS = ZoneInfo("Europe/Paris")
CENTS = Decimal("0.01")


@pytest.fixture
def director(db):
    return StaffFactory(email="director@cnrs.example.fr")


@pytest.fixture
def award(director):
    return make_award(amount=Decimal(12000), user=director)


def fresh(award: Award) -> Award:
    return Award.objects.get(pk=award.pk)


def amounts(award: Award) -> list[Decimal]:
    return list(Tranche.objects.filter(award=award).order_by("number").values_list("amount", flat=True))


def approve_year_1(award: Award, user) -> Report:
    set_report_state(award, ReportPeriod.YEAR_1, ReportState.COSIGNED)
    return report_review(report_id=report(award).pk, user=user, approve=True, comment="", now=timezone.now())


# Creation -----------------------------------------------------------------------------------------------------


def test_award_create_from_a_selected_decision(director):
    unit = UnitFactory()
    call = CallFactory(duration_months=24)
    decision = selected_decision(amount=Decimal("12345.67"), decided_by=director, call=call, unit=unit)
    now = dt.datetime(2031, 3, 15, 10, 0, tzinfo=PARIS)

    award = award_create(decision=decision, user=director, now=now)

    assert (award.amount, award.unit, award.state) == (Decimal("12345.67"), unit, AwardState.AWAITING)
    # The call's 30 days to accept, to the end of the day, Paris time.
    assert award.accept_by == dt.datetime(2031, 4, 14, 23, 59, tzinfo=PARIS)
    assert (award.start_date, award.end_date, award.created_at) == (dt.date(2031, 4, 1), dt.date(2033, 4, 1), now)
    tranches = list(award.tranches.order_by("number").values_list("number", "amount", "planned_date", "state"))
    assert tranches == [
        (1, Decimal("6172.84"), dt.date(2031, 4, 1), TrancheState.PLANNED),
        (2, Decimal("6172.83"), dt.date(2032, 4, 1), TrancheState.PLANNED),
    ]
    assert sum(amount for _n, amount, _d, _s in tranches) == award.amount
    assert sorted(award.reports.values_list("period", "state")) == [
        (ReportPeriod.FINAL, ReportState.DRAFT), (ReportPeriod.YEAR_1, ReportState.DRAFT)]
    assert Proposal.objects.get(pk=decision.proposal_id).state == ProposalState.FUNDED
    entries = list(AuditEntry.objects.filter(action__in=["award.create", "proposal.funded"])
                   .order_by("action").values_list("action", "object_id", "actor_id", "from_state", "to_state"))
    assert entries == [
        ("award.create", str(award.pk), director.pk, "", AwardState.AWAITING),
        ("proposal.funded", str(decision.proposal_id), director.pk, ProposalState.SELECTED, ProposalState.FUNDED),
    ]
    assert AuditEntry.objects.get(action="award.create").data == {
        "amount": "12345.67", "proposal": decision.proposal.reference}


def test_the_award_starts_the_first_of_the_next_month_in_paris_and_lasts_the_calls_duration(director):
    decision = selected_decision(decided_by=director, call=CallFactory(duration_months=18))
    # 23:30 UTC on 31 December is already 1 January in Paris: the award starts on 1 February.
    award = award_create(decision=decision, user=director, now=dt.datetime(2031, 12, 31, 23, 30, tzinfo=dt.UTC))
    assert (award.start_date, award.end_date) == (dt.date(2032, 2, 1), dt.date(2033, 8, 1))


def test_award_create_is_idempotent(director):
    decision = selected_decision(decided_by=director)
    first = award_create(decision=decision, user=director, now=timezone.now())
    second = award_create(decision=decision, user=director, now=timezone.now())
    assert second.pk == first.pk
    assert (Award.objects.count(), Tranche.objects.count(), Report.objects.count()) == (1, 2, 2)
    assert AuditEntry.objects.filter(action="award.create").count() == 1


@pytest.mark.parametrize("outcome", ["rejected", "reserve"])
def test_award_create_refuses_a_decision_that_is_not_selected(director, outcome):
    decision = selected_decision(decided_by=director, outcome=outcome)
    with pytest.raises(FundingError) as refused:
        award_create(decision=decision, user=director, now=timezone.now())
    assert (refused.value.code, refused.value.messages) == (
        "not_selected", ["Only a selected proposal with an amount is funded."])
    assert (Award.objects.count(), AuditEntry.objects.filter(action="award.create").count()) == (0, 0)
    assert Proposal.objects.get(pk=decision.proposal_id).state == outcome


def test_award_create_needs_the_pis_unit(director):
    decision = selected_decision(decided_by=director)
    Proposal.objects.filter(pk=decision.proposal_id).update(unit=None)
    with pytest.raises(FundingError) as refused:
        award_create(decision=decision, user=director, now=timezone.now())
    assert refused.value.code == "no_unit"
    assert Award.objects.count() == 0


# The gate -----------------------------------------------------------------------------------------------------


def test_tranche_1_is_released_at_once_and_the_pi_and_unit_managers_are_told(
        award, director, django_capture_on_commit_callbacks):
    manager = UserFactory(email="gestion@lab.example.fr")
    award.unit.managers.add(manager)
    now = timezone.now()

    with pytest.raises(FundingError) as refused:
        tranche_release(tranche_id=tranche(award, 2).pk, user=director, now=now)
    assert refused.value.messages == ["Tranche 1 has not been released yet."]

    with django_capture_on_commit_callbacks(execute=True):
        released = tranche_release(tranche_id=tranche(award, 1).pk, user=director, now=now)

    stored = tranche(award, 1)
    assert (stored.state, stored.decided_at, stored.decided_by) == (TrancheState.RELEASED, now, director)
    assert released.pk == stored.pk
    assert AuditEntry.objects.filter(action="tranche.release", object_id=str(stored.pk)).count() == 1
    assert sorted(message.to[0] for message in mail.outbox) == sorted([award.proposal.pi.email, manager.email])


def test_tranche_2_waits_for_the_approved_year_1_reports(award, director):
    tranche_release(tranche_id=tranche(award, 1).pk, user=director, now=timezone.now())
    second = tranche(award, 2)

    for state, shown in [(ReportState.DRAFT, "draft"), (ReportState.SUBMITTED, "waiting for the partner's co-signature"),
                         (ReportState.COSIGNED, "co-signed, waiting for approval"),
                         (ReportState.CHANGES_REQUESTED, "changes requested")]:
        set_report_state(award, ReportPeriod.YEAR_1, state)
        with pytest.raises(FundingError) as refused:
            tranche_release(tranche_id=second.pk, user=director, now=timezone.now())
        assert (refused.value.code, refused.value.messages) == ("gate", [
            f"Tranche 2 is released only after the year 1 reports are approved; they are: {shown}."])
        assert tranche(award, 2).state == TrancheState.PLANNED

    approve_year_1(award, director)
    assert tranche_gate(tranche(award, 2)) == ""
    tranche_release(tranche_id=second.pk, user=director, now=timezone.now())
    assert tranche(award, 2).state == TrancheState.RELEASED
    assert AuditEntry.objects.filter(action="tranche.release").count() == 2


def test_a_released_or_withheld_tranche_is_not_released_again(award, director):
    tranche_release(tranche_id=tranche(award, 1).pk, user=director, now=timezone.now())
    with pytest.raises(FundingError) as refused:
        tranche_release(tranche_id=tranche(award, 1).pk, user=director, now=timezone.now())
    assert refused.value.messages == ["This tranche is already released."]

    approve_year_1(award, director)
    tranche_withhold(tranche_id=tranche(award, 2).pk, user=director, reason="No receipts.", now=timezone.now())
    with pytest.raises(FundingError) as refused:
        tranche_release(tranche_id=tranche(award, 2).pk, user=director, now=timezone.now())
    assert refused.value.messages == ["This tranche is already withheld."]


def test_a_withheld_tranche_1_blocks_tranche_2(award, director):
    now = timezone.now()
    withheld = tranche_withhold(tranche_id=tranche(award, 1).pk, user=director, reason="  Unit closed.  ", now=now)
    assert (withheld.state, withheld.withheld_reason, withheld.decided_by) == (TrancheState.WITHHELD, "Unit closed.", director)
    assert AuditEntry.objects.get(action="tranche.withhold").reason == "Unit closed."
    approve_year_1(award, director)
    with pytest.raises(FundingError) as refused:
        tranche_release(tranche_id=tranche(award, 2).pk, user=director, now=now)
    assert refused.value.messages == ["Tranche 1 has not been released yet."]
    with pytest.raises(FundingError) as refused:
        tranche_withhold(tranche_id=tranche(award, 1).pk, user=director, reason="Again.", now=now)
    assert refused.value.code == "not_planned"


def test_withholding_needs_a_reason(award, director):
    with pytest.raises(FundingError) as refused:
        tranche_withhold(tranche_id=tranche(award, 1).pk, user=director, reason="   ", now=timezone.now())
    assert (refused.value.code, tranche(award, 1).state) == ("reason", TrancheState.PLANNED)


def test_nothing_is_released_from_a_suspended_award_until_it_is_resumed(award, director):
    suspended = award_set_state(award_id=award.pk, user=director, state=AwardState.SUSPENDED, reason="Audit.",
                                now=timezone.now())
    assert suspended.state == AwardState.SUSPENDED
    with pytest.raises(FundingError) as refused:
        tranche_release(tranche_id=tranche(award, 1).pk, user=director, now=timezone.now())
    assert refused.value.messages == ["The award is suspended."]
    assert tranche(award, 1).state == TrancheState.PLANNED

    with pytest.raises(FundingError) as refused:
        award_set_state(award_id=award.pk, user=director, state=AwardState.SUSPENDED, reason="Twice.", now=timezone.now())
    assert refused.value.messages == ["An award that is suspended cannot become suspended."]

    award_set_state(award_id=award.pk, user=director, state=AwardState.ACTIVE, reason="Audit done.", now=timezone.now())
    tranche_release(tranche_id=tranche(award, 1).pk, user=director, now=timezone.now())
    assert tranche(award, 1).state == TrancheState.RELEASED
    assert list(AuditEntry.objects.filter(action="award.state").order_by("pk").values_list("to_state", "reason")) == [
        (AwardState.SUSPENDED, "Audit."), (AwardState.ACTIVE, "Audit done.")]


def test_only_directorate_staff_move_tranches(award):
    pi = award.proposal.pi
    for call in (
        lambda: tranche_release(tranche_id=tranche(award, 1).pk, user=pi, now=timezone.now()),
        lambda: tranche_withhold(tranche_id=tranche(award, 1).pk, user=pi, reason="x", now=timezone.now()),
        lambda: tranche_update(tranche_id=tranche(award, 1).pk, user=pi, amount=Decimal(1),
                               planned_date=award.start_date, now=timezone.now()),
        lambda: award_set_state(award_id=award.pk, user=pi, state=AwardState.SUSPENDED, reason="x", now=timezone.now()),
    ):
        with pytest.raises(FundingError) as refused:
            call()
        assert refused.value.code == "forbidden"
    assert amounts(award) == [Decimal(6000), Decimal(6000)]
    assert list(Tranche.objects.values_list("state", flat=True)) == [TrancheState.PLANNED] * 2


# Changing planned tranches ------------------------------------------------------------------------------------


def test_tranche_update_within_the_award(award, director):
    later = award.start_date + dt.timedelta(days=400)
    tranche_update(tranche_id=tranche(award, 1).pk, user=director, amount=Decimal("4000.50"),
                   planned_date=award.start_date, now=timezone.now())
    tranche_update(tranche_id=tranche(award, 2).pk, user=director, amount=Decimal("7999.50"), planned_date=later,
                   now=timezone.now())
    assert amounts(award) == [Decimal("4000.50"), Decimal("7999.50")]
    assert tranche(award, 2).planned_date == later
    assert tranche_total(award) == award.amount
    entry = AuditEntry.objects.filter(action="tranche.update").order_by("pk").last()
    assert entry.data == {"before": ["6000.00", award.start_date.replace(year=award.start_date.year + 1).isoformat()],
                          "after": ["7999.50", later.isoformat()]}


def test_tranche_update_over_the_award_is_refused_with_the_sum(award, director):
    with pytest.raises(FundingError) as refused:
        tranche_update(tranche_id=tranche(award, 1).pk, user=director, amount=Decimal("6000.01"),
                       planned_date=award.start_date, now=timezone.now())
    assert (refused.value.code, refused.value.messages) == (
        "over_award", ["The tranches would add up to €12,000.01, more than the award of €12,000.00."])
    assert amounts(award) == [Decimal(6000), Decimal(6000)]
    assert AuditEntry.objects.filter(action="tranche.update").count() == 0


def test_only_a_planned_tranche_changes(award, director):
    tranche_release(tranche_id=tranche(award, 1).pk, user=director, now=timezone.now())
    with pytest.raises(FundingError) as refused:
        tranche_update(tranche_id=tranche(award, 1).pk, user=director, amount=Decimal(1000),
                       planned_date=award.start_date, now=timezone.now())
    assert (refused.value.code, refused.value.messages) == ("not_planned", ["Only a planned tranche can be changed."])
    with pytest.raises(FundingError) as refused:
        tranche_update(tranche_id=tranche(award, 2).pk, user=director, amount=Decimal(-1),
                       planned_date=award.start_date, now=timezone.now())
    assert refused.value.code == "negative"
    assert amounts(award) == [Decimal(6000), Decimal(6000)]


# Properties ---------------------------------------------------------------------------------------------------

award_amounts = st.decimals(min_value=Decimal(10000), max_value=Decimal(14000), places=2)
tranche_amounts = st.decimals(min_value=Decimal(0), max_value=Decimal(15000), places=2)


@given(amount=award_amounts, parts=st.integers(min_value=1, max_value=6))
def test_split_amount_shares_add_up_exactly_to_the_cent(amount, parts):
    shares = split_amount(amount, parts)
    assert len(shares) == parts
    assert sum(shares) == amount
    assert all(share == share.quantize(CENTS) and share >= 0 for share in shares)
    assert max(shares) - min(shares) <= CENTS * parts / 2


@given(amount=award_amounts)
def test_two_tranches_differ_by_at_most_a_cent(amount):
    first, second = split_amount(amount)
    assert (first + second, first - second in (Decimal(0), CENTS)) == (amount, True)


@pytest.fixture
def award_parts(db):
    """What an award needs besides its amount, built once for all the examples of a property."""
    return {"user": StaffFactory(), "call": CallFactory(), "unit": UnitFactory(), "pi": UserFactory()}


def _award_of(amount: Decimal, parts: dict) -> Award:
    proposal = ProposalFactory(call=parts["call"], unit=parts["unit"], pi=parts["pi"], complete=True,
                               state=ProposalState.SELECTED, budget={})
    decision = Decision.objects.create(proposal=proposal, outcome="selected", amount=amount,
                                       decided_by=parts["user"], decided_at=timezone.now())
    return award_create(decision=decision, user=parts["user"], now=timezone.now())


class Rollback(Exception):
    """Ends an example's savepoint, so that each example starts from the same database."""


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(amount=award_amounts, updates=st.lists(st.tuples(st.sampled_from([1, 2]), tranche_amounts), max_size=8))
def test_tranche_updates_never_take_the_tranches_over_the_award(award_parts, amount, updates):
    with pytest.raises(Rollback), transaction.atomic():
        award = _award_of(amount, award_parts)
        assert amounts(award) == split_amount(amount)
        for number, value in updates:
            before = dict(zip((1, 2), amounts(award), strict=True))
            others = sum(v for n, v in before.items() if n != number)
            try:
                tranche_update(tranche_id=tranche(award, number).pk, user=award_parts["user"], amount=value,
                               planned_date=award.start_date, now=timezone.now())
            except FundingError as refused:
                assert (refused.code, others + value > amount) == ("over_award", True)
                assert dict(zip((1, 2), amounts(award), strict=True)) == before
            else:
                assert others + value <= amount
                assert tranche(award, number).amount == value
            assert tranche_total(award) <= fresh(award).amount
        raise Rollback


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(amount=award_amounts, first=tranche_amounts, second=tranche_amounts)
def test_the_database_accepts_direct_writes_exactly_when_they_stay_within_the_award(award_parts, amount, first, second):
    """Bypassing the domain, the database alone keeps the rule — to the cent, also on SQLite."""
    with pytest.raises(Rollback), transaction.atomic():
        award = _award_of(amount, award_parts)
        Tranche.objects.filter(award=award).update(amount=0)
        writes = [(1, first), (2, second)]
        for number, value in writes:
            others = tranche_total(award) - tranche(award, number).amount
            try:
                with transaction.atomic():
                    Tranche.objects.filter(award=award, number=number).update(amount=value)
            except IntegrityError:
                assert others + value > amount
            else:
                assert others + value <= amount
            assert tranche_total(award) <= amount
        raise Rollback


# The database guard -------------------------------------------------------------------------------------------
# A CHECK constraint cannot sum rows, so a trigger refuses the write; both SQLite's RAISE(ABORT) and
# PostgreSQL's check_violation reach Django as django.db.utils.IntegrityError.


def test_the_database_refuses_raising_a_tranche_over_the_award(award):
    with pytest.raises(IntegrityError, match="the tranches would exceed the award"), transaction.atomic():
        Tranche.objects.filter(award=award, number=1).update(amount=Decimal("6000.01"))
    assert amounts(award) == [Decimal(6000), Decimal(6000)]
    first = tranche(award, 1)
    first.amount = Decimal(7000)
    with pytest.raises(IntegrityError), transaction.atomic():
        first.save(update_fields=["amount"])
    assert amounts(award) == [Decimal(6000), Decimal(6000)]


def test_the_database_refuses_a_new_tranche_over_the_award(award):
    with pytest.raises(IntegrityError, match="the tranches would exceed the award"), transaction.atomic():
        Tranche.objects.create(award=award, number=3, amount=CENTS, planned_date=award.end_date)
    with pytest.raises(IntegrityError), transaction.atomic():
        Tranche.objects.bulk_create([Tranche(award=award, number=3, amount=CENTS, planned_date=award.end_date)])
    assert Tranche.objects.filter(award=award).count() == 2


def test_the_database_refuses_moving_a_tranche_to_an_award_it_would_overflow(director, award):
    other = make_award(amount=Decimal(10000), user=director)
    with pytest.raises(IntegrityError), transaction.atomic():
        Tranche.objects.filter(award=award, number=1).update(award=other, number=3)
    assert (amounts(award), amounts(other)) == ([Decimal(6000)] * 2, [Decimal(5000)] * 2)


def test_the_database_refuses_lowering_the_award_below_its_tranches(award):
    with pytest.raises(IntegrityError, match="the tranches would exceed the award"), transaction.atomic():
        Award.objects.filter(pk=award.pk).update(amount=Decimal("11999.99"))
    award.amount = Decimal(10000)
    with pytest.raises(IntegrityError), transaction.atomic():
        award.save(update_fields=["amount"])
    assert fresh(award).amount == Decimal(12000)


def test_the_database_accepts_writes_within_the_award(award):
    Tranche.objects.filter(award=award, number=1).update(amount=Decimal("4000.01"))
    Tranche.objects.filter(award=award, number=2).update(amount=Decimal("7999.99"))
    Tranche.objects.create(award=fresh(award), number=3, amount=Decimal(0), planned_date=award.end_date)
    Award.objects.filter(pk=award.pk).update(amount=Decimal(12000))
    Award.objects.filter(pk=award.pk).update(amount=Decimal(13000))
    Tranche.objects.filter(award=award, number=3).update(amount=Decimal(1000))
    assert (tranche_total(award), fresh(award).amount) == (Decimal(13000), Decimal(13000))


# PostgreSQL: two transactions raising two tranches of one award at once --------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_direct_raises_cannot_both_pass_on_postgresql(require_postgres):
    """Each write alone stays within the award; together they would not. The trigger locks the award, so
    the second writer waits for the first to commit, then sees its amount and is refused. (Without the
    lock, each would see the other's old amount and both would commit: 14,000 € of tranches.)"""
    award = make_award(amount=Decimal(12000))
    Tranche.objects.filter(award=award).update(amount=Decimal(5000))
    first_wrote, second_starts = threading.Event(), threading.Event()
    outcomes = {}

    def writer(number: int):
        close_old_connections()
        try:
            with transaction.atomic():
                if number == 2:
                    assert first_wrote.wait(timeout=30)
                    second_starts.set()
                Tranche.objects.filter(award=award, number=number).update(amount=Decimal(7000))
                if number == 1:
                    first_wrote.set()
                    assert second_starts.wait(timeout=30)
                    time.sleep(0.5)  # the second writer is now blocked on the award's lock
            outcomes[number] = "committed"
        except IntegrityError:
            outcomes[number] = "refused"
        finally:
            connection.close()

    threads = [threading.Thread(target=writer, args=(number,)) for number in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert [thread.is_alive() for thread in threads] == [False, False]
    assert outcomes == {1: "committed", 2: "refused"}
    assert amounts(award) == [Decimal(7000), Decimal(5000)]
