"""The solver of the automatic assignment: ``solve`` builds the min-cost flow network of ``reviews.domain.matching``'s
docstring and solves it with OR-tools (C++).

In a module of its own because numpy and OR-tools take ~0.7 s and some 40 MB to load: only the process that
solves a panel (the Celery worker running ``reviews.tasks.run_assignment_job``) loads them, never a web worker.
"""

import math
import time
from collections import Counter
from collections.abc import Mapping

import numpy as np
from ortools.graph.python import min_cost_flow

from .matching import (
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
) -> Solution:
    """Choose (proposal, reviewer) pairs: as many as possible, balanced, then best keyword match.

    Pure (no database). ``conflicts`` and ``existing`` are (proposal id, reviewer id) pairs that must not
    be chosen; ``affinity`` gives the keyword matches of a pair (missing = 0). See the module docstring.
    """
    if len({p.id for p in proposals}) != len(proposals) or len({r.id for r in reviewers}) != len(reviewers):
        raise ValueError("proposal and reviewer ids must be unique")
    started = time.perf_counter()
    wanted = [p for p in proposals if p.need > 0]
    total_need = sum(p.need for p in wanted)
    target = math.ceil((sum(r.load for r in reviewers) + total_need) / len(reviewers)) if reviewers else 0
    max_load = target + 1
    room = {r.id: max(0, max_load - r.load) for r in reviewers}  # 0 for a reviewer above L
    big = max(affinity.values(), default=0) * total_need + 1

    # Rows: the proposals wanting reviewers; columns: the reviewers. ``allowed`` is the arcs to build.
    row = {p.id: i for i, p in enumerate(wanted)}
    column = {r.id: j for j, r in enumerate(reviewers)}
    allowed = np.zeros((len(wanted), len(reviewers)), dtype=bool)
    allowed[:, [column[r.id] for r in reviewers if room[r.id]]] = True
    _mark(allowed, conflicts | existing, row, column, False)
    gain = np.zeros(allowed.shape, dtype=np.int64)
    _mark(gain, {pair: score for pair, score in affinity.items() if score}, row, column)
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
    conflicted = Counter(proposal_id for proposal_id, reviewer_id in conflicts if reviewer_id in column)
    asked = Counter(proposal_id for proposal_id, reviewer_id in existing - conflicts if reviewer_id in column)
    uncovered: list[Shortfall] = []
    for i, proposal in enumerate(wanted):
        if given[i] < proposal.need:
            conflict_free = len(reviewers) - conflicted[proposal.id]
            allowed_count = conflict_free - asked[proposal.id]
            uncovered.append(Shortfall(
                proposal_id=proposal.id, need=proposal.need, missing=proposal.need - given[i],
                cause=SHORT_OF_REVIEWERS if allowed_count < proposal.need else SHORT_OF_CAPACITY,
                allowed=allowed_count, asked_before=conflict_free - allowed_count, max_load=max_load,
            ))
    return Solution(pairs=pairs, uncovered=uncovered, target_load=target, max_load=max_load, cost=cost,
                    seconds={"network": network_s, "solve": solve_s})


def _mark(matrix: np.ndarray, pairs, row: dict, column: dict, value=None) -> None:
    """Set ``matrix[row, column]`` for each (proposal id, reviewer id) pair of the matrix: to ``value``, or
    to ``pairs[pair]`` when ``pairs`` is a mapping. Pairs outside it are left out."""
    known = [pair for pair in pairs if pair[0] in row and pair[1] in column]
    if not known:
        return
    rows = [row[proposal_id] for proposal_id, _ in known]
    columns = [column[reviewer_id] for _, reviewer_id in known]
    matrix[rows, columns] = value if value is not None else [pairs[pair] for pair in known]


def _network(wanted, reviewers, target, room, big, rows, columns, gain):
    """The network of the module docstring, as OR-tools arrays. Nodes: 0 the source, 1 the sink, then the
    proposals, the reviewers and their overflow nodes; the proposal→reviewer arcs come first, so their
    indices are ``arcs``."""
    n_p, n_r = len(wanted), len(reviewers)
    proposal_node = 2 + np.arange(n_p)
    reviewer_node = 2 + n_p + np.arange(n_r)
    overflow_node = 2 + n_p + n_r + np.arange(n_r)
    base = np.array([max(0, target - r.load) if room[r.id] else 0 for r in reviewers], dtype=np.int64)
    overflow = np.array([1 if room[r.id] else 0 for r in reviewers], dtype=np.int64)
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
