"""The solver of the automatic assignment: ``solve`` builds the min-cost flow network of ``reviews.domain.matching``'s
docstring and solves it with OR-tools (C++).

In a module of its own because numpy and OR-tools take ~0.7 s and some 40 MB to load: only the process that
solves a panel (the Celery worker running ``reviews.tasks.run_assignment_job``) loads them, never a web worker.
"""

import math
import time
from collections import Counter
from collections.abc import Collection, Mapping

import numpy as np
from ortools.graph.python import min_cost_flow

from .matching import (
    BID_WEIGHTS,
    SHORT_OF_AVAILABLE,
    SHORT_OF_CAPACITY,
    SHORT_OF_REVIEWERS,
    ProposalNeed,
    ReviewerCapacity,
    Shortfall,
    Solution,
)


def solve(
    *,
    proposals: list[ProposalNeed],
    reviewers: list[ReviewerCapacity],
    conflicts: set[tuple[int, int]],
    existing: set[tuple[int, int]],
    affinity: Mapping[tuple[int, int], int],
    caps: Mapping[int, int] | None = None,
    bids: Mapping[tuple[int, int], str] | None = None,
    unavailable: Collection[int] = (),
) -> Solution:
    """Choose (proposal, reviewer) pairs: as many as possible; no conflict; within each reviewer's maximum and
    never a reviewer away; balanced; then the reviewers' bids; then the best affinity (in that strict order).

    Pure (no database). ``conflicts`` and ``existing`` are (proposal id, reviewer id) pairs that must not be
    chosen; ``affinity`` gives the affinity of a pair (missing = 0); ``caps`` the most reviews a reviewer may
    have in the panel in all (missing = no maximum but the balance's); ``bids`` a pair's ``BidValue`` (a
    "conflict" bid is a conflict); ``unavailable`` the reviewers away during the review period. See the
    module docstring of ``matching``.
    """
    if len({p.id for p in proposals}) != len(proposals) or len({r.id for r in reviewers}) != len(reviewers):
        raise ValueError("proposal and reviewer ids must be unique")
    caps, bids, away = caps or {}, bids or {}, set(unavailable)
    started = time.perf_counter()
    wanted = [p for p in proposals if p.need > 0]
    total_need = sum(p.need for p in wanted)
    present = [r for r in reviewers if r.id not in away]
    target = math.ceil((sum(r.load for r in present) + total_need) / len(present)) if present else 0
    max_load = target + 1
    # The most each reviewer may end with, and the room that leaves (0 for one away or above their maximum).
    ceiling = {r.id: min(caps.get(r.id, max_load), max_load) for r in reviewers}
    room = {r.id: 0 if r.id in away else max(0, ceiling[r.id] - r.load) for r in reviewers}
    conflicted = conflicts | {pair for pair, value in bids.items() if value == "conflict"}
    top = max(affinity.values(), default=0)
    weight = top * total_need + 1  # W: one step of bid outweighs every affinity together
    big = total_need * (4 * weight + top) + 1  # BIG: one +1 slot outweighs every bid and affinity together

    # Rows: the proposals wanting reviewers; columns: the reviewers. ``allowed`` is the arcs to build.
    row = {p.id: i for i, p in enumerate(wanted)}
    column = {r.id: j for j, r in enumerate(reviewers)}
    conflict_free = np.ones((len(wanted), len(reviewers)), dtype=bool)
    _mark(conflict_free, conflicted, row, column, False)
    free = conflict_free.copy()  # no conflict, not asked before
    _mark(free, existing, row, column, False)
    allowed = free.copy()
    allowed[:, [column[r.id] for r in reviewers if not room[r.id]]] = False
    gain = np.zeros(allowed.shape, dtype=np.int64)
    _mark(gain, {pair: score for pair, score in affinity.items() if score}, row, column)
    _mark(gain, {pair: -weight * BID_WEIGHTS[value] for pair, value in bids.items() if BID_WEIGHTS.get(value)},
          row, column, add=True)
    rows, columns = np.nonzero(allowed)  # row-major: in proposal then reviewer order

    chosen = np.zeros(0, dtype=bool)
    cost = 0
    network_s = time.perf_counter() - started
    solve_s = 0.0
    if rows.size:
        flow, arcs = _network(wanted, reviewers, target, room, big, rows, columns, gain[rows, columns])
        network_s = time.perf_counter() - started
        status = flow.solve_max_flow_with_min_cost()
        solve_s = time.perf_counter() - started - network_s
        if status != flow.OPTIMAL:
            raise RuntimeError(f"the min-cost flow was not solved: {status!r}")
        chosen = flow.flows(arcs) > 0
        cost = flow.optimal_cost()

    given = Counter(rows[chosen].tolist())
    pairs = [(wanted[i].id, reviewers[j].id) for i, j in zip(rows[chosen].tolist(), columns[chosen].tolist(), strict=True)]
    return Solution(pairs=pairs, uncovered=_shortfalls(wanted, reviewers, conflict_free, free, rows[chosen], columns[chosen], given,
                                                       away, caps, max_load),
                    target_load=target, max_load=max_load, cost=cost, seconds={"network": network_s, "solve": solve_s})


def _shortfalls(wanted, reviewers, conflict_free, free, chosen_rows, chosen_columns, given, away, caps, max_load) -> list[Shortfall]:
    """Each proposal left short, with its cause counted: too few allowed reviewers, too many of them away, or
    the others full (how many at the maximum set for them)."""
    if not any(given[i] < proposal.need for i, proposal in enumerate(wanted)):
        return []
    loads = np.array([r.load for r in reviewers], dtype=np.int64)
    np.add.at(loads, chosen_columns, 1)
    is_away = np.array([r.id in away for r in reviewers], dtype=bool)
    capped = np.array([r.id in caps and loads[j] >= caps[r.id] for j, r in enumerate(reviewers)], dtype=bool)
    taken = np.zeros(free.shape, dtype=bool)
    taken[chosen_rows, chosen_columns] = True
    uncovered = []
    for i, proposal in enumerate(wanted):
        if given[i] >= proposal.need:
            continue
        allowed_count = int(free[i].sum())
        away_count = int((free[i] & is_away).sum())
        others = free[i] & ~is_away & ~taken[i]
        if allowed_count < proposal.need:
            cause = SHORT_OF_REVIEWERS
        elif allowed_count - away_count < proposal.need:
            cause = SHORT_OF_AVAILABLE
        else:
            cause = SHORT_OF_CAPACITY
        uncovered.append(Shortfall(
            proposal_id=proposal.id, need=proposal.need, missing=proposal.need - given[i], cause=cause,
            allowed=allowed_count, asked_before=int(conflict_free[i].sum()) - allowed_count,
            max_load=max_load, away=away_count, others=int(others.sum()), at_cap=int((others & capped).sum()),
        ))
    return uncovered


def _mark(matrix: np.ndarray, pairs, row: dict, column: dict, value=None, *, add: bool = False) -> None:
    """Set ``matrix[row, column]`` for each (proposal id, reviewer id) pair of the matrix: to ``value``, or
    to ``pairs[pair]`` when ``pairs`` is a mapping (added to it with ``add``). Pairs outside it are left out."""
    known = [pair for pair in pairs if pair[0] in row and pair[1] in column]
    if not known:
        return
    rows = [row[proposal_id] for proposal_id, _ in known]
    columns = [column[reviewer_id] for _, reviewer_id in known]
    if add:
        matrix[rows, columns] += [pairs[pair] for pair in known]
    else:
        matrix[rows, columns] = value if value is not None else [pairs[pair] for pair in known]


def _network(wanted, reviewers, target, room, big, rows, columns, gain):
    """The network of the module docstring, as OR-tools arrays. Nodes: 0 the source, 1 the sink, then the
    proposals, the reviewers and their overflow nodes; the proposal→reviewer arcs come first, so their
    indices are ``arcs``."""
    n_p, n_r = len(wanted), len(reviewers)
    proposal_node = 2 + np.arange(n_p)
    reviewer_node = 2 + n_p + np.arange(n_r)
    overflow_node = 2 + n_p + n_r + np.arange(n_r)
    # Up to L at no cost, the last slot (up to L + 1, when their maximum allows it) at BIG.
    base = np.array([min(room[r.id], max(0, target - r.load)) for r in reviewers], dtype=np.int64)
    overflow = np.array([room[r.id] for r in reviewers], dtype=np.int64) - base
    need = np.array([p.need for p in wanted], dtype=np.int64)
    ones, zeros_r = np.ones(rows.size, dtype=np.int64), np.zeros(n_r, dtype=np.int64)
    tails = np.concatenate([proposal_node[rows], np.zeros(n_p, dtype=np.int64), reviewer_node, reviewer_node,
                            overflow_node])
    heads = np.concatenate([reviewer_node[columns], proposal_node, np.ones(n_r, dtype=np.int64), overflow_node,
                            np.ones(n_r, dtype=np.int64)])
    capacities = np.concatenate([ones, need, base, overflow, overflow])
    costs = np.concatenate([-gain, np.zeros(n_p, dtype=np.int64), zeros_r, np.full(n_r, big, dtype=np.int64), zeros_r])
    flow = min_cost_flow.SimpleMinCostFlow()
    flow.add_arcs_with_capacity_and_unit_cost(tails, heads, capacities, costs)
    flow.set_node_supply(0, int(need.sum()))
    flow.set_node_supply(1, -int(need.sum()))
    return flow, np.arange(rows.size)
