"""Automatic assignment: the min-cost flow (properties), keyword affinity, and the panel-wide run."""

import itertools
import math
import random
from collections import Counter

import networkx as nx
import pytest
from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st

from iea.audit.models import AuditEntry
from proposals.models import Proposal
from reviews.domain.matching import (
    SHORT_OF_CAPACITY,
    SHORT_OF_REVIEWERS,
    ProposalNeed,
    ReviewerCapacity,
    Shortfall,
    affinity,
    keywords_normalise,
    panel_auto_assign,
    solve,
)
from reviews.models import Assignment, AssignmentState, Conflict, Panel, Review, Reviewer, ReviewState
from tests.factories import CallFactory, InstituteFactory, ProposalFactory, UnitFactory, UserFactory

# --- The flow, as properties ----------------------------------------------------------------------------


@st.composite
def pools(draw, max_reviewers=12, max_proposals=20):
    """A random panel: proposals needing 1–3 reviewers, reviewers with loads 0–2 (or all 0), random
    conflicts, already-asked pairs and keyword affinities."""
    rnd = draw(st.randoms(use_true_random=False))
    n_reviewers = draw(st.integers(1, max_reviewers))
    n_proposals = draw(st.integers(1, max_proposals))
    all_idle = draw(st.booleans())
    conflict_rate, existing_rate, affinity_rate = (draw(st.sampled_from([0, 0.1, 0.3, 0.8])) for _ in range(3))
    proposals = [ProposalNeed(id=10 + i, need=draw(st.integers(1, 3))) for i in range(n_proposals)]
    reviewers = [ReviewerCapacity(id=500 + j, load=0 if all_idle else rnd.randint(0, 2)) for j in range(n_reviewers)]
    pairs = [(p.id, r.id) for p in proposals for r in reviewers]
    return {
        "proposals": proposals,
        "reviewers": reviewers,
        "conflicts": {pair for pair in pairs if rnd.random() < conflict_rate},
        "existing": {pair for pair in pairs if rnd.random() < existing_rate},
        "affinity": {pair: rnd.randint(1, 3) for pair in pairs if rnd.random() < affinity_rate},
    }


def target_load(pool) -> int:
    """L = ceil(mean), mean = (current loads + needs) / reviewers, computed here independently."""
    total = sum(r.load for r in pool["reviewers"]) + sum(p.need for p in pool["proposals"])
    return math.ceil(total / len(pool["reviewers"]))


def allowed(pool, proposal_id) -> list[int]:
    forbidden = pool["conflicts"] | pool["existing"]
    return [r.id for r in pool["reviewers"] if (proposal_id, r.id) not in forbidden]


def final_loads(pool, pairs) -> dict[int, int]:
    given_ = Counter(reviewer_id for _, reviewer_id in pairs)
    return {r.id: r.load + given_[r.id] for r in pool["reviewers"]}


def max_coverage(pool, cap) -> int:
    """The most assignments possible when each reviewer may reach ``cap`` (networkx, costs left out)."""
    graph = nx.DiGraph()
    graph.add_nodes_from(["s", "t"])
    for proposal in pool["proposals"]:
        graph.add_edge("s", ("p", proposal.id), capacity=proposal.need)
        for reviewer_id in allowed(pool, proposal.id):
            graph.add_edge(("p", proposal.id), ("r", reviewer_id), capacity=1)
    for reviewer in pool["reviewers"]:
        graph.add_edge(("r", reviewer.id), "t", capacity=max(0, cap - reviewer.load))
    return nx.maximum_flow_value(graph, "s", "t")


@settings(max_examples=150, deadline=None)
@given(pools())
def test_solve_assigns_only_allowed_pairs_and_as_many_as_possible(pool):
    solution = solve(**pool)
    pairs = solution.pairs
    target = target_load(pool)
    assert solution.target_load == target
    assert solution.max_load == target + 1
    assert len(set(pairs)) == len(pairs)
    assert not set(pairs) & (pool["conflicts"] | pool["existing"])
    per_proposal = Counter(proposal_id for proposal_id, _ in pairs)
    assert {reviewer_id for _, reviewer_id in pairs} <= {r.id for r in pool["reviewers"]}
    # Each proposal gets at most its need; every one left short is reported with exactly what it misses.
    expected_short = {p.id: p.need - per_proposal[p.id] for p in pool["proposals"] if per_proposal[p.id] < p.need}
    assert all(per_proposal[p.id] <= p.need for p in pool["proposals"])
    assert {short.proposal_id: short.missing for short in solution.uncovered} == expected_short
    assert solution.missing == sum(expected_short.values())
    # Maximum coverage under the load limit: a reviewer at or below L may reach L + 1, one above L gets nothing.
    capped = {**pool, "reviewers": [r if r.load <= target else ReviewerCapacity(r.id, target + 1) for r in pool["reviewers"]]}
    assert len(pairs) == max_coverage(capped, target + 1)


@settings(max_examples=150, deadline=None)
@given(pools())
def test_solve_keeps_loads_balanced(pool):
    solution = solve(**pool)
    target = target_load(pool)
    loads = final_loads(pool, solution.pairs)
    given_ = Counter(reviewer_id for _, reviewer_id in solution.pairs)
    for reviewer in pool["reviewers"]:
        if reviewer.load > target:
            assert given_[reviewer.id] == 0
        else:
            assert loads[reviewer.id] <= target + 1
    # The +1 serves only when needed: if everything assigned fits within L, nobody goes above L.
    if max_coverage(pool, target) == len(solution.pairs):
        assert all(loads[r.id] <= max(target, r.load) for r in pool["reviewers"])
    # From idle reviewers and with everything covered, nobody has more than ceil(assigned / reviewers) + 1.
    if all(r.load == 0 for r in pool["reviewers"]) and not solution.uncovered:
        assert max(loads.values()) <= math.ceil(len(solution.pairs) / len(pool["reviewers"])) + 1


@settings(max_examples=150, deadline=None)
@given(pools())
def test_solve_says_why_a_proposal_is_short(pool):
    solution = solve(**pool)
    loads = final_loads(pool, solution.pairs)
    chosen = set(solution.pairs)
    for short in solution.uncovered:
        need = next(p.need for p in pool["proposals"] if p.id == short.proposal_id)
        free = allowed(pool, short.proposal_id)
        assert (short.need, short.allowed) == (need, len(free))
        if len(free) < need:
            assert short.cause == SHORT_OF_REVIEWERS
            assert "free of conflicts with it" in short.reason
        else:
            assert short.cause == SHORT_OF_CAPACITY
            assert f"maximum load of {solution.max_load}" in short.reason
            # True, not just said: every allowed reviewer it did not get is full.
            assert all(loads[r] >= solution.max_load for r in free if (short.proposal_id, r) not in chosen)


@settings(max_examples=100, deadline=None)
@given(pools(max_reviewers=3, max_proposals=4))
def test_solve_coverage_matches_a_brute_force_search(pool):
    """On tiny pools, try every set of allowed pairs: none within the limits is larger than the solution."""
    target = target_load(pool)
    room = {r.id: (target + 1 - r.load if r.load <= target else 0) for r in pool["reviewers"]}
    need = {p.id: p.need for p in pool["proposals"]}
    candidates = [(p.id, r) for p in pool["proposals"] for r in allowed(pool, p.id)]

    def fits(subset):
        per_proposal = Counter(p for p, _ in subset)
        per_reviewer = Counter(r for _, r in subset)
        return all(n <= need[p] for p, n in per_proposal.items()) and all(
            n <= room[r] for r, n in per_reviewer.items())

    best = next(size for size in range(len(candidates), -1, -1)
                if any(fits(subset) for subset in itertools.combinations(candidates, size)))
    assert len(solve(**pool).pairs) == best


def test_solve_with_nobody_free_or_nobody_at_all():
    alone = solve(proposals=[ProposalNeed(1, 2)], reviewers=[], conflicts=set(), existing=set(), affinity={})
    assert (alone.pairs, [(s.missing, s.reason) for s in alone.uncovered]) == (
        [], [(2, "no reviewer of the pool is free of conflicts with it (needs 2)")])
    nobody_free = solve(proposals=[ProposalNeed(1, 1), ProposalNeed(2, 0)],
                        reviewers=[ReviewerCapacity(7), ReviewerCapacity(8)],
                        conflicts={(1, 7)}, existing={(1, 8)}, affinity={})
    assert nobody_free.pairs == []
    assert [s.reason for s in nobody_free.uncovered] == [
        "no other reviewer of the pool is free of conflicts with it and not asked before (needs 1)"]


def test_solve_reasons_read_as_the_officer_needs_them():
    """Reviewer 8 is already above the target load; proposal 2 is in conflict with reviewer 8."""
    solution = solve(
        proposals=[ProposalNeed(1, 2), ProposalNeed(2, 2)],
        reviewers=[ReviewerCapacity(7), ReviewerCapacity(8, load=7)],
        conflicts={(2, 8)}, existing=set(), affinity={},
    )
    # mean = (7 + 4) / 2, so L = 6 and at most 7: reviewer 8 (load 7) gets nothing.
    assert (solution.target_load, solution.max_load) == (6, 7)
    assert solution.pairs == [(1, 7), (2, 7)]
    assert [(s.proposal_id, s.missing, s.cause, s.reason) for s in solution.uncovered] == [
        (1, 1, SHORT_OF_CAPACITY, "the other eligible reviewers are at their maximum load of 7"),
        (2, 1, SHORT_OF_REVIEWERS, "only 1 reviewer of the pool is free of conflicts with it (needs 2)"),
    ]


def test_shortfall_reasons_in_every_form():
    def reason(**kw):
        values = {"proposal_id": 1, "need": 2, "missing": 2, "cause": SHORT_OF_REVIEWERS, "allowed": 0,
                  "asked_before": 0, "max_load": 4}
        return Shortfall(**{**values, **kw}).reason

    assert reason(allowed=1, asked_before=1, missing=1) == (
        "only 1 reviewer of the pool is free of conflicts with it and not asked before (needs 2)")
    assert reason(need=3, allowed=2, missing=1) == "only 2 reviewers of the pool are free of conflicts with it (needs 3)"
    assert reason(cause=SHORT_OF_CAPACITY, allowed=5) == "the eligible reviewers are all at their maximum load of 4"


def test_solve_refuses_duplicate_ids():
    with pytest.raises(ValueError, match="unique"):
        solve(proposals=[ProposalNeed(1, 1), ProposalNeed(1, 2)], reviewers=[ReviewerCapacity(7)],
              conflicts=set(), existing=set(), affinity={})


def test_solve_gives_each_proposal_its_expert_when_loads_allow():
    # Four proposals, four reviewers, one review each: L = 1, so each expert can take their own proposal.
    proposals = [ProposalNeed(i, 1) for i in (1, 2, 3, 4)]
    reviewers = [ReviewerCapacity(r) for r in (11, 12, 13, 14)]
    experts = {1: 13, 2: 11, 3: 14, 4: 12}
    solution = solve(proposals=proposals, reviewers=reviewers, conflicts=set(), existing=set(),
                     affinity=dict.fromkeys(experts.items(), 2) | {(1, 11): 1})
    assert solution.pairs == sorted(experts.items())


def test_balance_comes_before_expertise():
    """One reviewer matches every keyword, yet takes no more than the limit: the others share the rest."""
    proposals = [ProposalNeed(i, 1) for i in range(1, 7)]
    reviewers = [ReviewerCapacity(r) for r in (11, 12, 13)]
    solution = solve(proposals=proposals, reviewers=reviewers, conflicts=set(), existing=set(),
                     affinity={(p, 11): 3 for p in range(1, 7)})
    loads = Counter(r for _, r in solution.pairs)
    assert (len(solution.pairs), loads[11], solution.uncovered) == (6, 2, [])


def test_solve_covers_a_larger_random_panel():
    """Not a benchmark: 150 proposals over 40 reviewers, a few conflicts, are all covered within the cap."""
    rnd = random.Random(7)
    proposals = [ProposalNeed(i, 2) for i in range(150)]
    reviewers = [ReviewerCapacity(1000 + j, rnd.randint(0, 1)) for j in range(40)]
    pairs = [(p.id, r.id) for p in proposals for r in reviewers]
    solution = solve(proposals=proposals, reviewers=reviewers,
                     conflicts={pair for pair in pairs if rnd.random() < 0.05}, existing=set(),
                     affinity={pair: rnd.randint(1, 3) for pair in pairs if rnd.random() < 0.05})
    assert (len(solution.pairs), solution.uncovered) == (300, [])
    assert max(final_loads({"reviewers": reviewers}, solution.pairs).values()) <= solution.max_load


# --- Keyword affinity -----------------------------------------------------------------------------------


def test_keywords_are_compared_without_case_accents_or_punctuation():
    assert keywords_normalise(" Érosion côtière, DEEP-learning ;  , Ξένος ") == {
        "erosion cotiere", "deep learning", "ξενοσ"}  # casefold: final sigma too


@pytest.mark.parametrize(("proposal_keywords", "title", "reviewer_keywords", "expected"), [
    ("erosion, coasts, storms", "Coastal erosion under changing storms", "Storms, érosion", 2),
    ("", "Coastal erosion under changing storms", "coast, ion, changing storms", 1),  # whole words only
    ("Côtes", "", "cotes, cotes, COTES", 1),  # a keyword counts once
    ("deep learning", "", "Deep-Learning", 1),
    ("erosion", "Erosion", "erosion", 1),  # in both places: one match
    ("erosion", "storms", "", 0),
])
def test_affinity_counts_the_reviewers_keywords_found(proposal_keywords, title, reviewer_keywords, expected):
    assert affinity(proposal_keywords, title, reviewer_keywords) == expected


# --- The panel, in the database -------------------------------------------------------------------------

NOW = timezone.now()


class Setting:
    """An institute's panel (N = 2), its units, and helpers to add proposals and reviewers."""

    def __init__(self, n_units=3):
        self.institute = InstituteFactory()
        self.call = CallFactory()
        self.panel = Panel.objects.create(call=self.call, institute=self.institute, reviews_per_proposal=2)
        self.units = [UnitFactory(main_institute=self.institute) for _ in range(n_units)]
        self.officer = UserFactory(full_name="Olga Officer")

    def proposal(self, unit, *, state="eligible", **kwargs) -> Proposal:
        proposal = ProposalFactory(call=self.call, complete=True, unit=unit, **kwargs)
        Proposal.objects.filter(pk=proposal.pk).update(state=state)
        proposal.refresh_from_db()
        return proposal

    def reviewer(self, name, *, unit=None, keywords="", institute=None, active=True) -> Reviewer:
        user = UserFactory(email=f"{name.lower()}@lab.example.org", full_name=f"{name} Reviewer")
        return Reviewer.objects.create(user=user, institute=institute or self.institute, unit=unit,
                                       keywords=keywords, active=active)

    def run(self):
        return panel_auto_assign(panel_id=self.panel.pk, user=self.officer, now=NOW)


def assigned(proposal) -> set[str]:
    return {a.reviewer.user.full_name.split()[0] for a in proposal.assignments.filter(state="invited")}


@pytest.mark.django_db
def test_auto_assign_covers_every_proposal_and_never_a_conflict(django_capture_on_commit_callbacks, mailoutbox):
    setting = Setting()
    unit_a, unit_b, unit_c = setting.units
    proposals = [setting.proposal(unit_a), setting.proposal(unit_b), setting.proposal(unit_c)]
    colleague = setting.reviewer("Anna", unit=unit_a)  # in the PI's unit of the first proposal
    for name in ("Boris", "Chen", "Dara"):
        setting.reviewer(name)

    with django_capture_on_commit_callbacks(execute=True):
        result = setting.run()

    assert (len(result.created), result.uncovered, result.conflicts_recorded) == (6, [], 1)
    assert list(Conflict.objects.values_list("proposal", "reviewer", "cause", "source")) == [
        (proposals[0].pk, colleague.pk, "same_unit_as_pi", "detected")]
    assert "Anna" not in assigned(proposals[0])
    assert [len(assigned(p)) for p in proposals] == [2, 2, 2]
    assert Counter(a.reviewer_id for a in result.created).most_common(1)[0][1] <= 2  # 6 reviews over 4: ≤ ceil(1.5)
    assert all(a.automatic and a.state == AssignmentState.INVITED for a in result.created)
    assert set(Proposal.objects.values_list("state", flat=True)) == {"in_review"}
    assert sorted(m.to[0] for m in mailoutbox) == sorted(a.reviewer.user.email for a in result.created)
    [entry] = AuditEntry.objects.filter(action="panel.auto_assign")
    assert (entry.object_id, entry.actor, entry.data) == (str(setting.panel.pk), setting.officer, {
        "proposals": 3, "reviewers": 4, "created": 6, "uncovered": 0, "missing": 0, "conflicts_recorded": 1,
        "max_load": 3,
    })

    with django_capture_on_commit_callbacks(execute=True):
        again = setting.run()
    assert (again.created, again.uncovered, again.conflicts_recorded) == ([], [], 0)
    assert Assignment.objects.count() == 6
    assert Conflict.objects.count() == 1
    assert len(mailoutbox) == 6


@pytest.mark.django_db
def test_auto_assign_reports_what_it_cannot_cover():
    setting = Setting()
    unit_a, unit_b, _ = setting.units
    short = setting.proposal(unit_a)
    covered = setting.proposal(unit_b)
    setting.reviewer("Anna", unit=unit_a)
    setting.reviewer("Boris")
    setting.reviewer("Chen", unit=unit_a)  # the first proposal has only Boris

    result = setting.run()

    assert result.uncovered == [(short, "only 1 reviewer of the pool is free of conflicts with it (needs 2)")]
    assert (assigned(short), len(assigned(covered))) == ({"Boris"}, 2)
    assert result.conflicts_recorded == 2
    assert AuditEntry.objects.get(action="panel.auto_assign").data["missing"] == 1


@pytest.mark.django_db
def test_auto_assign_respects_answers_loads_expertise_and_the_pool():
    setting = Setting()
    unit_a, unit_b, unit_c = setting.units
    glaciers = setting.proposal(unit_a, keywords="glaciers, ice", title="Melting ice sheets")
    coasts = setting.proposal(unit_b)  # "erosion, coasts, storms"
    submitted = setting.proposal(unit_c, state="submitted")  # not screened eligible yet
    other_call = setting.proposal(unit_c)
    Proposal.objects.filter(pk=other_call.pk).update(call=CallFactory())
    anna = setting.reviewer("Anna", keywords="Glaciers, ice sheets")
    boris = setting.reviewer("Boris", keywords="storms, érosion")
    chen = setting.reviewer("Chen")
    dara = setting.reviewer("Dara")
    gus = setting.reviewer("Gus")
    setting.reviewer("Emil", active=False)
    setting.reviewer("Fay", institute=InstituteFactory())
    # Chen declined the glacier proposal: not asked again. Dara already reviews the coast proposal.
    for proposal, reviewer, state in [(glaciers, chen, "declined"), (coasts, dara, "accepted")]:
        Assignment.objects.create(panel=setting.panel, proposal=proposal, reviewer=reviewer, state=state,
                                  due_at=NOW, created_at=NOW)

    result = setting.run()

    # Needs 2 + 1, load 1 (Dara), 5 reviewers: L = 1. The experts get their proposal, Gus (free) the rest.
    assert result.uncovered == []
    assert (assigned(glaciers), assigned(coasts)) == ({"Anna", "Gus"}, {"Boris"})
    assert {a.reviewer for a in result.created} == {anna, boris, gus}
    assert (submitted.assignments.count(), other_call.assignments.count()) == (0, 0)


@pytest.mark.django_db
def test_a_reviewer_already_above_the_target_load_is_spared():
    setting = Setting()
    unit_a, _, unit_c = setting.units
    busy = setting.reviewer("Anna", keywords="erosion, coasts, storms")
    for _ in range(3):  # three reviews done in this panel on proposals already ranked
        done = setting.proposal(unit_c, state="ranked")
        Assignment.objects.create(panel=setting.panel, proposal=done, reviewer=busy, state="accepted",
                                  due_at=NOW, created_at=NOW)
    fresh = setting.proposal(unit_a)
    setting.reviewer("Boris")
    setting.reviewer("Chen")

    result = setting.run()

    # Loads 3 + needs 2 over 3 reviewers: L = 2. Anna (3) gets nothing, although her keywords all match.
    assert busy.pk not in {a.reviewer_id for a in result.created}
    assert (assigned(fresh), result.uncovered) == ({"Boris", "Chen"}, [])


@pytest.mark.django_db
def test_what_counts_towards_the_reviews_a_proposal_needs():
    """Open or done assignments count, except an unanswered one held by a reviewer who left the pool."""
    setting = Setting()
    unit_a, unit_b, _ = setting.units
    reviewed = setting.proposal(unit_a)
    stalled = setting.proposal(unit_b)
    gone = setting.reviewer("Gone", active=False)
    left = setting.reviewer("Left", active=False)
    done = Assignment.objects.create(panel=setting.panel, proposal=reviewed, reviewer=gone, state="accepted",
                                     due_at=NOW, created_at=NOW)
    Review.objects.create(assignment=done, proposal=reviewed, reviewer=gone, state=ReviewState.SUBMITTED,
                          created_at=NOW, updated_at=NOW, submitted_at=NOW)
    Assignment.objects.create(panel=setting.panel, proposal=stalled, reviewer=left, state="invited",
                              due_at=NOW, created_at=NOW)
    for name in ("Anna", "Boris", "Chen"):
        setting.reviewer(name)

    result = setting.run()

    assert result.uncovered == []
    assert (len(assigned(reviewed)), len(assigned(stalled) - {"Left"})) == (1, 2)
    assert len(result.created) == 3


@pytest.mark.django_db
def test_conflict_detection_costs_no_query_per_pair(queries):
    setting = Setting()

    names = (f"Reviewer {n}" for n in range(100))

    def conflicted(n):
        for _ in range(n):
            setting.proposal(setting.units[0])
            setting.reviewer(next(names), unit=setting.units[0])  # in conflict with every proposal

    assert queries.at_sizes(conflicted, setting.run, sizes=(2, 4)) == (12, 12)  # the first run records the conflicts
    result = setting.run()
    assert (result.created, len(result.uncovered)) == ([], 4)
