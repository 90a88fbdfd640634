"""The statistics of the calls (iea/site/backoffice/statistics.py): every table equals a recomputation in Python
over plain objects, in a world with every edge — withdrawn after submission, ineligible, reserve, an award
declined and one cancelled, an evaluating institute other than the unit's main one, early-career researchers on
each side, resubmitted PIs, a call with nothing submitted — and costs the same queries at any size."""

import datetime as dt
from collections import defaultdict
from decimal import Decimal

import pytest

from calls.models import Call, CallState
from funding.models import Award, AwardState
from iea.site.backoffice.statistics import StatsScope, statistics
from proposals.models import Proposal, ProposalState, TeamMember, TeamSide
from reviews.domain.screening import PASSED_SCREENING_STATES
from reviews.models import Decision, DecisionOutcome
from tests.factories import (
    CallFactory,
    DelegationFactory,
    InstituteFactory,
    ProposalFactory,
    StaffFactory,
    UnitFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2032, 3, 1, 12, tzinfo=dt.UTC)


class World:
    def __init__(self):
        self.staff = StaffFactory()
        self.insu, self.inee, self.inshs = (InstituteFactory(code=code) for code in ("INSU", "INEE", "INSHS"))
        self.north, self.south = DelegationFactory(code="DR01", name="Nord"), DelegationFactory(code="DR02",
                                                                                              name="Sud")
        self.unit_insu = UnitFactory(main_institute=self.insu, delegation=self.north)
        self.unit_inee = UnitFactory(main_institute=self.inee, delegation=self.south)
        self.calls = {year: CallFactory(year=year, state=state) for year, state in (
            (2029, CallState.DECIDED), (2030, CallState.DECIDED), (2031, CallState.IN_REVIEW),
            (2032, CallState.OPEN))}

    def proposal(self, year, state, *, pi=None, unit=None, evaluating=None, country="BR", early=(False, False),
                 outcome=None, amount=Decimal(12000), award=None, submitted=True):
        proposal = ProposalFactory(call=self.calls[year], complete=True, pi=pi or UserFactory(),
                                   unit=unit or self.unit_insu, evaluating_institute=evaluating,
                                   partner_country=country)
        proposal.team.all().delete()
        TeamMember.objects.create(proposal=proposal, side=TeamSide.CNRS, name="C", early_career=early[0])
        TeamMember.objects.create(proposal=proposal, side=TeamSide.PARTNER, name="P", early_career=early[1])
        TeamMember.objects.create(proposal=proposal, side=TeamSide.PARTNER, name="Q", early_career=early[1])
        Proposal.objects.filter(pk=proposal.pk).update(state=state, submitted_at=NOW if submitted else None)
        if outcome:
            Decision.objects.create(proposal=proposal, outcome=outcome, decided_at=NOW, decided_by=self.staff,
                                    amount=amount if outcome == DecisionOutcome.SELECTED else None)
        if award:
            Award.objects.create(proposal=proposal, unit=proposal.unit, amount=amount, state=award, created_at=NOW,
                                 start_date=dt.date(2031, 1, 1), end_date=dt.date(2032, 12, 31))
        return proposal


@pytest.fixture
def world():
    w = World()
    S, R, J = DecisionOutcome.SELECTED, DecisionOutcome.RESERVE, DecisionOutcome.REJECTED
    returning, lucky, never = UserFactory(), UserFactory(), UserFactory()
    # 2029: a rejected PI who comes back, a selected one who comes back, one whose draft was never submitted.
    w.proposal(2029, ProposalState.REJECTED, pi=returning, outcome=J, early=(True, False))
    w.proposal(2029, ProposalState.FUNDED, pi=lucky, outcome=S, amount=Decimal(15000), award=AwardState.CLOSED,
               country="DE")
    w.proposal(2029, ProposalState.DRAFT, pi=never, submitted=False)
    # 2030: the resubmissions, a reserve, an ineligible one, one withdrawn after submission, declined and
    # cancelled awards, a proposal evaluated by an institute other than its unit's main one.
    w.proposal(2030, ProposalState.FUNDED, pi=returning, outcome=S, award=AwardState.ACTIVE, early=(False, True))
    w.proposal(2030, ProposalState.REJECTED, pi=lucky, outcome=J, early=(True, True))
    w.proposal(2030, ProposalState.ELIGIBLE, pi=never)
    w.proposal(2030, ProposalState.RESERVE, outcome=R, unit=w.unit_inee, country="SG")
    w.proposal(2030, ProposalState.INELIGIBLE, unit=w.unit_inee, country="")
    w.proposal(2030, ProposalState.WITHDRAWN, unit=w.unit_inee)
    w.proposal(2030, ProposalState.SELECTED, outcome=S, amount=Decimal(9000), award=AwardState.DECLINED,
               unit=w.unit_inee, evaluating=w.inshs, early=(True, False))
    w.proposal(2030, ProposalState.SELECTED, outcome=S, amount=Decimal(7000), award=AwardState.CANCELLED,
               unit=w.unit_inee, country="DE")
    w.proposal(2030, ProposalState.FUNDED, outcome=S, amount=Decimal(11000), award=AwardState.SUSPENDED,
               evaluating=w.inee, country="JP")
    # 2031: in review, and a withdrawn draft; 2032: open, nothing submitted.
    w.proposal(2031, ProposalState.IN_REVIEW, pi=returning, early=(False, True))
    w.proposal(2031, ProposalState.SUBMITTED, unit=w.unit_inee)
    w.proposal(2031, ProposalState.WITHDRAWN, submitted=False)
    w.proposal(2032, ProposalState.DRAFT, submitted=False)
    return w


# The recomputation, over plain objects

def plain_proposals():
    proposals = list(Proposal.objects.select_related("call", "unit__delegation", "unit__main_institute",
                                                     "evaluating_institute").prefetch_related("team"))
    decisions = {d.proposal_id: d for d in Decision.objects.all()}
    awards = {a.proposal_id: a for a in Award.objects.all()}
    made = []
    for p in proposals:
        decision, award = decisions.get(p.pk), awards.get(p.pk)
        selected = bool(decision and decision.outcome == "selected" and (award is None or award.state != "cancelled"))
        team = list(p.team.all())
        made.append({
            "proposal": p, "call": p.call, "institute": p.institute, "delegation": p.unit.delegation,
            "country": p.partner_country.code or "", "submitted": p.submitted_at is not None,
            "eligible": p.state in PASSED_SCREENING_STATES, "selected": selected,
            "funded": bool(award and award.state in ("active", "suspended", "closed")),
            "amount": decision.amount if selected else Decimal(0),
            "early_cnrs": any(m.early_career and m.side == "cnrs" for m in team),
            "early_partner": any(m.early_career and m.side == "partner" for m in team),
        })
    for item in made:
        p = item["proposal"]
        item["resubmission"] = any(
            other["proposal"].pi_id == p.pi_id and other["call"].year < p.call.year and other["submitted"]
            and not (decisions.get(other["proposal"].pk) and decisions[other["proposal"].pk].outcome == "selected")
            for other in made)
    return [item for item in made if item["submitted"]]


def expected_rows(items, key):
    rows = defaultdict(lambda: {"submitted": 0, "eligible": 0, "selected": 0, "funded": 0, "amount": Decimal(0)})
    for item in items:
        row = rows[key(item)]
        row["submitted"] += 1
        row["eligible"] += item["eligible"]
        row["selected"] += item["selected"]
        row["funded"] += item["funded"]
        row["amount"] += item["amount"]
    return dict(rows)


def found_rows(rows):
    return {row.key: {"submitted": row.submitted, "eligible": row.eligible, "selected": row.selected,
                      "funded": row.funded, "amount": row.amount} for row in rows}


def every_call():
    return list(Call.objects.order_by("-year"))


def test_each_table_equals_a_recomputation_over_every_call(world):
    items = plain_proposals()
    stats = statistics(StatsScope(), every_call())

    by_year = expected_rows(items, lambda i: i["call"].pk)
    assert found_rows(stats.years) == {**by_year, world.calls[2032].pk: {
        "submitted": 0, "eligible": 0, "selected": 0, "funded": 0, "amount": Decimal(0)}}
    assert [row.label for row in stats.years] == ["2029", "2030", "2031", "2032"]
    assert found_rows(stats.institutes) == expected_rows(items, lambda i: i["institute"].pk)
    assert found_rows(stats.delegations) == expected_rows(items, lambda i: i["delegation"].pk)
    assert found_rows(stats.countries) == expected_rows(items, lambda i: i["country"])

    # The edges, spelled out: the cancelled award is not selected, the declined one still is; the withdrawn
    # and the ineligible proposals were submitted; INSHS evaluates a proposal of an INEE unit.
    year_2030 = next(row for row in stats.years if row.label == "2030")
    assert (year_2030.submitted, year_2030.eligible, year_2030.selected, year_2030.funded) == (9, 7, 3, 2)
    assert year_2030.amount == Decimal(12000 + 9000 + 11000)
    assert year_2030.rate == Decimal(3) / Decimal(9)
    assert year_2030.eligible_rate == Decimal(3) / Decimal(7)
    assert {row.label: row.submitted for row in stats.institutes} == {"INEE": 6, "INSHS": 1, "INSU": 6}
    assert [row.rate for row in stats.years if row.label == "2032"] == [None]
    assert stats.countries[0].key == "BR"
    assert {row.key: row.label for row in stats.countries}["SG"] == "Singapore"
    assert {row.key: row.label for row in stats.countries}[""] == "No country"
    assert stats.total.submitted == len(items) == 13


def test_early_career_and_resubmissions_equal_a_recomputation(world):
    items = plain_proposals()
    stats = statistics(StatsScope(), every_call())
    for row in stats.early_career:
        mine = [i for i in items if i["call"].pk == row.key]
        early = [i for i in mine if i["early_cnrs"] or i["early_partner"]]
        assert (row.submitted, row.with_early_career, row.cnrs_side, row.partner_side) == (
            len(mine), len(early), sum(i["early_cnrs"] for i in mine), sum(i["early_partner"] for i in mine))
        assert (row.selected_with, row.selected_without) == (
            sum(i["selected"] for i in early), sum(i["selected"] for i in mine if i not in early))
    year_2030 = next(row for row in stats.early_career if row.label == "2030")
    assert (year_2030.with_early_career, year_2030.cnrs_side, year_2030.partner_side) == (3, 2, 2)
    assert (year_2030.share, year_2030.rate_with, year_2030.rate_without) == (
        Decimal(3) / 9, Decimal(2) / 3, Decimal(1) / 6)

    for row in stats.resubmissions:
        mine = [i for i in items if i["call"].pk == row.key]
        again = [i for i in mine if i["resubmission"]]
        assert (row.submitted, row.resubmissions, row.selected_resubmissions, row.selected_first) == (
            len(mine), len(again), sum(i["selected"] for i in again),
            sum(i["selected"] for i in mine if i not in again))
    resubmitted = {row.label: row.resubmissions for row in stats.resubmissions}
    # 2030: only the PI rejected in 2029 (the selected one and the one who never submitted are first tries);
    # 2031: the same PI again (rejected in 2029).
    assert resubmitted == {"2029": 0, "2030": 1, "2031": 1, "2032": 0}
    nothing = next(row for row in stats.resubmissions if row.label == "2032")
    assert (nothing.share, nothing.rate_first, nothing.rate_resubmissions) == (None, None, None)


def test_the_statistics_and_the_exports_count_the_same_resubmissions(world):
    """Two readings of one rule: proposals.models.is_resubmission per proposal (the exports) and the statistics'
    join on each PI's first unselected year."""
    from proposals.models import is_resubmission

    stats = statistics(StatsScope(), every_call())
    flagged = Proposal.objects.filter(submitted_at__isnull=False).annotate(again=is_resubmission())
    for row in stats.resubmissions:
        assert row.resubmissions == flagged.filter(call_id=row.key, again=True).count()


def test_the_scope_narrows_every_table(world):
    items = plain_proposals()
    call = world.calls[2030]
    for scope, keep in [
        (StatsScope(call_ids=(call.pk,)), lambda i: i["call"] == call),
        (StatsScope(institute_ids=(world.inee.pk,)), lambda i: i["institute"] == world.inee),
        (StatsScope(institute_ids=(world.inee.pk, world.inshs.pk)), lambda i: i["institute"] in (world.inee,
                                                                                                   world.inshs)),
        (StatsScope(delegation_id=world.south.pk), lambda i: i["delegation"] == world.south),
        (StatsScope(call_ids=(call.pk,), institute_ids=(world.insu.pk,), delegation_id=world.south.pk),
         lambda i: i["call"] == call and i["institute"] == world.insu and i["delegation"] == world.south),
    ]:
        mine = [i for i in items if keep(i)]
        stats = statistics(scope, every_call())
        assert found_rows(stats.institutes) == expected_rows(mine, lambda i: i["institute"].pk), scope
        assert found_rows(stats.delegations) == expected_rows(mine, lambda i: i["delegation"].pk), scope
        assert found_rows(stats.countries) == expected_rows(mine, lambda i: i["country"]), scope
        assert {k: v for k, v in found_rows(stats.years).items() if v["submitted"]} == expected_rows(
            mine, lambda i: i["call"].pk), scope
        assert stats.total.submitted == len(mine)
    only_2030 = statistics(StatsScope(call_ids=(call.pk,)), every_call())
    assert [row.label for row in only_2030.years] == ["2030"]
    assert [row.label for row in only_2030.early_career] == ["2030"] == [r.label for r in only_2030.resubmissions]


def test_the_tables_cost_six_queries_whatever_the_number_of_proposals(world, queries):
    calls = every_call()

    def grow(size):
        for n in range(size):
            world.proposal(2030 + n % 2, ProposalState.ELIGIBLE, country=["FR", "US"][n % 2],
                           unit=[world.unit_insu, world.unit_inee][n % 2], early=(n % 2 == 0, True),
                           outcome=DecisionOutcome.SELECTED, award=AwardState.ACTIVE)

    assert queries.at_sizes(grow, lambda: statistics(StatsScope(), calls), sizes=(1, 5)) == (6, 6)

