"""Automatic assignment's choice: the min-cost flow (its properties, and its cost against networkx's on the
same network) and keyword affinity. The panel-wide run, as a background job, is tested in test_assignment_job.py."""

import itertools
import math
import random
from collections import Counter

import networkx as nx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from iea.text import fold as _normalise
from reviews.domain.matching import (
    SHORT_OF_AVAILABLE,
    SHORT_OF_CAPACITY,
    SHORT_OF_REVIEWERS,
    ProposalNeed,
    ReviewerCapacity,
    Shortfall,
    affinities,
    affinity,
    assignment_why,
    keywords_normalise,
)
from reviews.domain.solver import solve

# --- The flow, as properties ----------------------------------------------------------------------------


@st.composite
def pools(draw, max_reviewers=12, max_proposals=20, min_need=1, max_load=2, extras=True):
    """A random panel: proposals needing 1–3 reviewers, reviewers with loads 0–2 (or all 0), random
    conflicts, already-asked pairs and affinities; with ``extras``, some reviewers with a maximum of their
    own, some away, and random bids (a "conflict" bid among them)."""
    rnd = draw(st.randoms(use_true_random=False))
    n_reviewers = draw(st.integers(1, max_reviewers))
    n_proposals = draw(st.integers(1, max_proposals))
    all_idle = draw(st.booleans())
    conflict_rate, existing_rate, affinity_rate = (draw(st.sampled_from([0, 0.1, 0.3, 0.8])) for _ in range(3))
    cap_rate, away_rate, bid_rate = (draw(st.sampled_from([0, 0.2, 0.6])) if extras else 0 for _ in range(3))
    top = draw(st.sampled_from([3, 1000]))
    proposals = [ProposalNeed(id=10 + i, need=draw(st.integers(min_need, 3))) for i in range(n_proposals)]
    reviewers = [ReviewerCapacity(id=500 + j, load=0 if all_idle else rnd.randint(0, max_load)) for j in range(n_reviewers)]
    pairs = [(p.id, r.id) for p in proposals for r in reviewers]
    return {
        "proposals": proposals,
        "reviewers": reviewers,
        "conflicts": {pair for pair in pairs if rnd.random() < conflict_rate},
        "existing": {pair for pair in pairs if rnd.random() < existing_rate},
        "affinity": {pair: rnd.randint(1, top) for pair in pairs if rnd.random() < affinity_rate},
        "caps": {r.id: rnd.randint(1, 4) for r in reviewers if rnd.random() < cap_rate},
        "unavailable": {r.id for r in reviewers if rnd.random() < away_rate},
        "bids": {pair: rnd.choice(["eager", "willing", "rather_not", "conflict"]) for pair in pairs
                 if rnd.random() < bid_rate},
    }


def target_load(pool) -> int:
    """L = ceil(mean), mean = (current loads + needs) / reviewers not away, computed here independently."""
    present = [r for r in pool["reviewers"] if r.id not in pool.get("unavailable", ())]
    if not present:
        return 0
    total = sum(r.load for r in present) + sum(p.need for p in pool["proposals"])
    return math.ceil(total / len(present))


def forbidden(pool) -> set:
    return pool["conflicts"] | pool["existing"] | {pair for pair, bid in pool.get("bids", {}).items() if bid == "conflict"}


def allowed(pool, proposal_id) -> list[int]:
    """The reviewers free of conflicts with it and not asked before (away or not)."""
    return [r.id for r in pool["reviewers"] if (proposal_id, r.id) not in forbidden(pool)]


def ceiling(pool, reviewer, limit) -> int:
    """The most ``reviewer`` may end with under ``limit``: their own maximum if lower; their load if away."""
    if reviewer.id in pool.get("unavailable", ()):
        return reviewer.load
    return min(limit, pool.get("caps", {}).get(reviewer.id, limit))


def final_loads(pool, pairs) -> dict[int, int]:
    given_ = Counter(reviewer_id for _, reviewer_id in pairs)
    return {r.id: r.load + given_[r.id] for r in pool["reviewers"]}


def max_coverage(pool, cap) -> int:
    """The most assignments possible when each reviewer may reach ``cap`` (or their own maximum, and not at
    all when away) — networkx, costs left out."""
    graph = nx.DiGraph()
    graph.add_nodes_from(["s", "t"])
    for proposal in pool["proposals"]:
        graph.add_edge("s", ("p", proposal.id), capacity=proposal.need)
        for reviewer_id in allowed(pool, proposal.id):
            graph.add_edge(("p", proposal.id), ("r", reviewer_id), capacity=1)
    for reviewer in pool["reviewers"]:
        graph.add_edge(("r", reviewer.id), "t", capacity=max(0, ceiling(pool, reviewer, cap) - reviewer.load))
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
    assert not set(pairs) & forbidden(pool)
    assert not {reviewer_id for _, reviewer_id in pairs} & pool["unavailable"]  # nobody away is asked
    loads = final_loads(pool, pairs)
    assert all(loads[r.id] <= max(r.load, pool["caps"][r.id]) for r in pool["reviewers"] if r.id in pool["caps"])
    per_proposal = Counter(proposal_id for proposal_id, _ in pairs)
    assert {reviewer_id for _, reviewer_id in pairs} <= {r.id for r in pool["reviewers"]}
    # Each proposal gets at most its need; every one left short is reported with exactly what it misses.
    expected_short = {p.id: p.need - per_proposal[p.id] for p in pool["proposals"] if per_proposal[p.id] < p.need}
    assert all(per_proposal[p.id] <= p.need for p in pool["proposals"])
    assert {short.proposal_id: short.missing for short in solution.uncovered} == expected_short
    assert solution.missing == sum(expected_short.values())
    # Maximum coverage under the limits: a reviewer may reach min(their maximum, L + 1), one away nothing.
    assert len(pairs) == max_coverage(pool, target + 1)


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
    present = [r for r in pool["reviewers"] if r.id not in pool["unavailable"]]
    if all(r.load == 0 for r in pool["reviewers"]) and not solution.uncovered and present:
        assert max(loads.values()) <= math.ceil(len(solution.pairs) / len(present)) + 1


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
        away = [r for r in free if r in pool["unavailable"]]
        assert short.away == len(away)
        if len(free) < need:
            assert short.cause == SHORT_OF_REVIEWERS
            assert "free of conflicts with it" in short.reason
        elif len(free) - len(away) < need:
            assert short.cause == SHORT_OF_AVAILABLE
            assert f"{len(away)} of the {len(free)} reviewers free of conflicts with it" in short.reason
        else:
            assert short.cause == SHORT_OF_CAPACITY
            # True, not just said: every available allowed reviewer it did not get is full, and so many of them
            # at the maximum set for them.
            others = [r for r in free if r not in pool["unavailable"] and (short.proposal_id, r) not in chosen]
            by_id = {r.id: r for r in pool["reviewers"]}
            assert all(loads[r] >= ceiling(pool, by_id[r], solution.max_load) for r in others)
            at_cap = [r for r in others if r in pool["caps"] and loads[r] >= pool["caps"][r]]
            assert (short.others, short.at_cap) == (len(others), len(at_cap))
            if at_cap and len(at_cap) == len(others):
                assert "at the maximum of reviews set for them" in short.reason
            elif at_cap:
                assert f"{len(at_cap)} at the maximum set for them" in short.reason
            else:
                assert f"maximum load of {solution.max_load}" in short.reason


@settings(max_examples=100, deadline=None)
@given(pools(max_reviewers=3, max_proposals=4))
def test_solve_coverage_matches_a_brute_force_search(pool):
    """On tiny pools, try every set of allowed pairs: none within the limits is larger than the solution."""
    target = target_load(pool)
    room = {r.id: max(0, ceiling(pool, r, target + 1) - r.load) for r in pool["reviewers"]}
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


BID_COST = {"eager": -2, "willing": -1, "rather_not": 2}  # written out again here, not imported


def weights(pool) -> tuple[int, int]:
    """W and BIG of the docstring, computed here independently."""
    top = max(pool["affinity"].values(), default=0)
    need = sum(p.need for p in pool["proposals"] if p.need > 0)
    weight = top * need + 1
    return weight, need * (4 * weight + top) + 1


def pair_cost(pool, pair) -> int:
    return weights(pool)[0] * BID_COST.get(pool.get("bids", {}).get(pair, ""), 0) - pool["affinity"].get(pair, 0)


def networkx_reference(pool) -> tuple[int, int]:
    """The network of reviews.domain.matching's docstring, built by hand with networkx and solved by its
    ``max_flow_min_cost``: (flow value, total cost)."""
    wanted = [p for p in pool["proposals"] if p.need > 0]
    target = target_load(pool)
    room = {r.id: max(0, ceiling(pool, r, target + 1) - r.load) for r in pool["reviewers"]}
    _, big = weights(pool)
    graph = nx.DiGraph()
    graph.add_nodes_from(["source", "sink"])
    for reviewer in pool["reviewers"]:
        if not room[reviewer.id]:
            continue
        base = min(room[reviewer.id], max(0, target - reviewer.load))
        if base:
            graph.add_edge(("r", reviewer.id), "sink", capacity=base, weight=0)
        if room[reviewer.id] > base:
            graph.add_edge(("r", reviewer.id), ("o", reviewer.id), capacity=1, weight=big)
            graph.add_edge(("o", reviewer.id), "sink", capacity=1, weight=0)
    for proposal in wanted:
        graph.add_edge("source", ("p", proposal.id), capacity=proposal.need, weight=0)
        for reviewer in pool["reviewers"]:
            if room[reviewer.id] and (proposal.id, reviewer.id) not in forbidden(pool):
                graph.add_edge(("p", proposal.id), ("r", reviewer.id), capacity=1,
                               weight=pair_cost(pool, (proposal.id, reviewer.id)))
    flow = nx.max_flow_min_cost(graph, "source", "sink")
    return sum(flow["source"].values()), nx.cost_of_flow(graph, flow)


def cost_of(pool, solution) -> int:
    """What the chosen pairs cost in that network: BIG per unit above a reviewer's L, plus each pair's cost."""
    target = target_load(pool)
    _, big = weights(pool)
    given_ = Counter(reviewer_id for _, reviewer_id in solution.pairs)
    above = sum(max(0, given_[r.id] - max(0, target - r.load)) for r in pool["reviewers"])
    return big * above + sum(pair_cost(pool, pair) for pair in solution.pairs)


@settings(max_examples=200, deadline=None)
@given(pools(min_need=0, max_load=4))
def test_solve_costs_what_networkx_costs_on_the_same_network(pool):
    """OR-tools replaced networkx: on every random panel both find a maximum flow of the same minimum cost,
    and the pairs returned cost what the solver says (so they are the flow it found)."""
    solution = solve(**pool)
    assert (len(solution.pairs), solution.cost) == networkx_reference(pool)
    assert cost_of(pool, solution) == solution.cost


def test_solve_reports_its_timings():
    solution = solve(proposals=[ProposalNeed(1, 1)], reviewers=[ReviewerCapacity(7)], conflicts=set(), existing=set(),
                     affinity={})
    assert (solution.pairs, set(solution.seconds)) == ([(1, 7)], {"network", "solve"})


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


def pairwise_affinity(proposal_keywords: str, title: str, reviewer_keywords: str) -> int:
    """The rule as first written, one pair at a time: each reviewer keyword among the proposal's keywords,
    or between spaces in its padded title."""
    padded = f" {_normalise(title)} "
    mine = keywords_normalise(proposal_keywords)
    return sum(1 for keyword in keywords_normalise(reviewer_keywords) if keyword in mine or f" {keyword} " in padded)


VOCABULARY = ["erosion", "coasts", "storms", "Deep-Learning", "deep", "learning", "ice sheets", "ice", "Côtes",
              "cotes", "sea ice", "sheets", "glaciers", "ÉROSION côtière", "côtière", "", " ", "x"]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.lists(st.sampled_from(VOCABULARY), max_size=4),
                          st.lists(st.sampled_from(VOCABULARY), max_size=6)), min_size=1, max_size=6),
       st.lists(st.lists(st.sampled_from(VOCABULARY), max_size=4), min_size=1, max_size=5),
       st.sampled_from([", ", "; ", ","]))
def test_affinities_of_a_panel_equal_the_rule_pair_by_pair(proposals, reviewers, separator):
    """The indexed computation (titles as runs of words) gives each pair exactly what the pairwise rule gives."""
    texts = {i: (separator.join(keywords), " ".join(title)) for i, (keywords, title) in enumerate(proposals)}
    wanted = {100 + j: separator.join(keywords) for j, keywords in enumerate(reviewers)}
    expected = {(i, j): score for i, (keywords, title) in texts.items() for j, mine in wanted.items()
                if (score := pairwise_affinity(keywords, title, mine))}
    assert affinities(proposals=texts, reviewers=wanted) == expected


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


# --- Caps, availability, bids and affinity: the order of priorities -------------------------------------------


@settings(max_examples=120, deadline=None)
@given(pools(max_reviewers=3, max_proposals=3))
def test_solve_is_lexicographic_by_brute_force(pool):
    """On tiny pools, every set of allowed pairs within the limits, ranked by (coverage, fewest +1 slots, bids,
    affinity) in that strict order: the solver's choice has the best rank there is."""
    target = target_load(pool)
    room = {r.id: max(0, ceiling(pool, r, target + 1) - r.load) for r in pool["reviewers"]}
    base = {r.id: min(room[r.id], max(0, target - r.load)) for r in pool["reviewers"]}
    need = {p.id: p.need for p in pool["proposals"]}
    candidates = [(p.id, r) for p in pool["proposals"] for r in allowed(pool, p.id) if room[r]]

    def rank(subset):
        per_reviewer = Counter(r for _, r in subset)
        return (-len(subset), sum(max(0, n - base[r]) for r, n in per_reviewer.items()),
                sum(BID_COST.get(pool["bids"].get(pair, ""), 0) for pair in subset),
                -sum(pool["affinity"].get(pair, 0) for pair in subset))

    def fits(subset):
        per_proposal = Counter(p for p, _ in subset)
        per_reviewer = Counter(r for _, r in subset)
        return all(n <= need[p] for p, n in per_proposal.items()) and all(n <= room[r] for r, n in per_reviewer.items())

    if len(candidates) > 12:
        return  # 2^12 subsets is enough for a brute force
    best = min(rank(subset) for size in range(len(candidates) + 1)
               for subset in itertools.combinations(candidates, size) if fits(subset))
    assert rank(solve(**pool).pairs) == best


def one_of_two(**extra):
    """Proposal 1 needs one reviewer among 11 and 12, both idle."""
    return solve(proposals=[ProposalNeed(1, 1)], reviewers=[ReviewerCapacity(11), ReviewerCapacity(12)],
                 conflicts=set(), existing=set(), **{"affinity": {}, **extra})


def test_an_eager_bid_beats_any_affinity_and_rather_not_loses_to_no_bid():
    assert one_of_two(affinity={(1, 11): 1000}, bids={(1, 12): "eager"}).pairs == [(1, 12)]
    assert one_of_two(affinity={(1, 11): 1000}, bids={(1, 12): "willing"}).pairs == [(1, 12)]
    assert one_of_two(bids={(1, 11): "willing", (1, 12): "eager"}).pairs == [(1, 12)]
    assert one_of_two(affinity={(1, 12): 1000}, bids={(1, 12): "rather_not"}).pairs == [(1, 11)]
    # A "conflict" bid is a conflict: never chosen, even when nobody else can take it.
    alone = one_of_two(bids={(1, 11): "conflict", (1, 12): "conflict"})
    assert (alone.pairs, alone.uncovered[0].cause) == ([], SHORT_OF_REVIEWERS)


def test_affinity_breaks_ties_between_equal_bids():
    assert one_of_two(affinity={(1, 11): 300, (1, 12): 720}).pairs == [(1, 12)]
    assert one_of_two(affinity={(1, 11): 300, (1, 12): 720}, bids={(1, 11): "eager", (1, 12): "eager"}).pairs == [(1, 12)]


def test_a_rather_not_is_taken_when_coverage_needs_it_and_balance_beats_an_eager_bid():
    # Coverage first: the only allowed reviewer said "rather not", and still reviews it.
    forced = solve(proposals=[ProposalNeed(1, 1)], reviewers=[ReviewerCapacity(11), ReviewerCapacity(12)],
                   conflicts={(1, 12)}, existing=set(), affinity={}, bids={(1, 11): "rather_not"})
    assert forced.pairs == [(1, 11)]
    # Balance before bids: four proposals, two reviewers (L = 2); 11 is eager for all, yet takes only two.
    eager = solve(proposals=[ProposalNeed(i, 1) for i in (1, 2, 3, 4)], reviewers=[ReviewerCapacity(11), ReviewerCapacity(12)],
                  conflicts=set(), existing=set(), affinity={}, bids={(i, 11): "eager" for i in (1, 2, 3, 4)})
    assert Counter(r for _, r in eager.pairs) == {11: 2, 12: 2}


def test_a_maximum_is_hard_and_the_reason_counts_who_is_at_it():
    # Two proposals × 2 reviews, three reviewers: L = 2; 11 may take 1, 12 may take 1, 13 takes its 2 (+1 cannot
    # help: 13 cannot review the same proposal twice).
    solution = solve(proposals=[ProposalNeed(1, 2), ProposalNeed(2, 2)],
                     reviewers=[ReviewerCapacity(11), ReviewerCapacity(12), ReviewerCapacity(13, load=1)],
                     conflicts=set(), existing=set(), affinity={}, caps={11: 1, 12: 1})
    loads = Counter(r for _, r in solution.pairs)
    assert (loads[11], loads[12], loads[13], len(solution.pairs)) == (1, 1, 2, 4)
    capped = solve(proposals=[ProposalNeed(1, 2), ProposalNeed(2, 2)],
                   reviewers=[ReviewerCapacity(11), ReviewerCapacity(12), ReviewerCapacity(13, load=3)],
                   conflicts=set(), existing=set(), affinity={}, caps={11: 1, 12: 1, 13: 3})
    assert len(capped.pairs) == 2
    assert [(s.cause, s.others, s.at_cap, s.reason) for s in capped.uncovered] == [
        (SHORT_OF_CAPACITY, 2, 2, "the 2 other eligible reviewers are at the maximum of reviews set for them"),
        (SHORT_OF_CAPACITY, 2, 2, "the 2 other eligible reviewers are at the maximum of reviews set for them"),
    ]


def test_a_reviewer_away_is_not_asked_and_the_reason_says_how_many_are_away():
    solution = solve(proposals=[ProposalNeed(1, 2)], reviewers=[ReviewerCapacity(11), ReviewerCapacity(12), ReviewerCapacity(13)],
                     conflicts={(1, 13)}, existing=set(), affinity={(1, 12): 900}, unavailable={12})
    assert solution.pairs == [(1, 11)]
    assert [(s.cause, s.away, s.reason) for s in solution.uncovered] == [
        (SHORT_OF_AVAILABLE, 1, "1 of the 2 reviewers free of conflicts with it is away during the review period "
                                "(needs 2)")]
    # The mean counts only the reviewers present: 4 reviews over 2 present reviewers, L = 2.
    assert solve(proposals=[ProposalNeed(1, 2), ProposalNeed(2, 2)],
                 reviewers=[ReviewerCapacity(r) for r in (11, 12, 13, 14)], conflicts=set(), existing=set(),
                 affinity={}, unavailable={13, 14}).target_load == 2


def test_shortfalls_stored_before_caps_still_read():
    old = {"proposal_id": 1, "need": 2, "missing": 2, "cause": SHORT_OF_CAPACITY, "allowed": 5, "asked_before": 0,
           "max_load": 4}
    assert Shortfall(**old).reason == "the eligible reviewers are all at their maximum load of 4"
    mixed = Shortfall(**{**old, "missing": 1, "others": 3, "at_cap": 1, "away": 2})
    assert mixed.reason == ("the 3 eligible reviewers not given to it are full: 1 at the maximum set for them, the "
                            "others at the maximum load of 4; 2 other reviewers are away during the review period")


def test_assignment_why_words_the_stored_codes():
    assert assignment_why({}) == ""
    assert assignment_why({"affinity": 723, "terms": ["ocean", "acidification", "coral", "reef"], "bid": "eager",
                           "load": 1, "after": 3, "max": 4}) == (
        "affinity 72 % (ocean, acidification, coral) · bid: eager · load 3/4")
    assert assignment_why({"affinity": 0, "keywords": 2, "bid": "", "load": 0, "after": 1, "max": 0}) == (
        "2 matching keywords · load 1")
