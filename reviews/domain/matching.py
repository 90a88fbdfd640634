"""Automatic assignment: which reviewers a panel's proposals still need, chosen by a min-cost flow.

The rule (domain.md, "Review"): a proposal needs ``Panel.reviews_per_proposal`` non-conflicted reviews.
Automatic assignment asks for the missing ones, never pairs a proposal with a reviewer in conflict with
it or already asked (a reviewer who declined is not asked again), and spreads the work: no reviewer ends
above ``ceil(mean) + 1``, where ``mean = (current loads + reviews still needed) / active reviewers``.

Algorithm: a minimum-cost maximum flow, solved exactly by OR-tools (``SimpleMinCostFlow.
solve_max_flow_with_min_cost``, C++): the value of a maximum flow, then the cheapest flow of that value
(integer costs, so the optimum is exact). The network is

    source → proposal        capacity = reviews still needed,               cost 0
    proposal → reviewer      capacity 1, only for allowed pairs,            cost = −keyword affinity
    reviewer → sink          capacity max(0, L − current load),             cost 0
    reviewer → overflow → sink   capacity 1 if current load ≤ L, else 0,     cost BIG

with ``L = ceil(mean)``. Capacities are integers, so an optimal flow is integral (the constraint matrix of
a network is totally unimodular): each proposal→reviewer arc carries 0 or 1, i.e. is an assignment, and
every unit of flow is one. Why it gives what the rule asks:

- Coverage. The flow is a *maximum* flow: no other choice of allowed pairs gives more assignments under
  the same load limits. In particular every proposal is fully covered whenever that is possible at all
  within ``L + 1`` per reviewer; when it is not, a proposal left short has no augmenting path
  source → proposal → reviewer → sink, so each allowed reviewer not given to it is at its maximum load.
  That is what the reason we report says (fewer allowed reviewers than needed, or the capacity).
- Balance. No reviewer ends above ``L + 1``, and a reviewer already above ``L`` gets nothing. The
  ``+1`` arc costs ``BIG = max affinity × total need + 1``, more than all keyword matches together can
  save, so among maximum flows the solver uses as few ``+1`` slots as possible: they serve only to
  cover proposals that could not be covered otherwise (typically because of conflicts).
- Expertise. Among the flows that are maximum and use the fewest ``+1`` slots, it takes the one with
  the most keyword matches (cost −affinity per assignment).

Loads below ``L`` are not equalised beyond that: a reviewer whose keywords match nothing may get less
than the mean; the cap is what the rule asks for.

Size: no arc is pruned (pruning could lose coverage, which the rule puts first), so a panel of 5,000
proposals and 1,000 reviewers is a network of ~5 million arcs; it is built with numpy and solved in a few
seconds (``benchmarks/assignment.py`` measures it). The panel-wide run — reading, conflicts, recording —
is ``reviews.domain.auto_assign``, started as a background job by ``reviews.domain.assignment_job``.
"""

import math
import re
import time
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from ortools.graph.python import min_cost_flow

# Why a proposal was left short.
SHORT_OF_REVIEWERS = "reviewers"  # fewer allowed reviewers (no conflict, not asked before) than it needs
SHORT_OF_CAPACITY = "capacity"  # enough allowed reviewers, but those not given to it are at their maximum load


@dataclass(frozen=True)
class ProposalNeed:
    """A proposal and how many more reviewers it needs (N minus its open or done assignments)."""

    id: int
    need: int


@dataclass(frozen=True)
class ReviewerCapacity:
    """An active reviewer of the pool and their current load in the panel."""

    id: int
    load: int = 0


@dataclass(frozen=True)
class Shortfall:
    """A proposal left with fewer reviewers than it needs, and why."""

    proposal_id: int
    need: int
    missing: int
    cause: str  # SHORT_OF_REVIEWERS or SHORT_OF_CAPACITY
    allowed: int  # reviewers of the pool free of conflicts with it and not asked before
    asked_before: int  # conflict-free reviewers left out because they were already asked
    max_load: int

    @property
    def reason(self) -> str:
        if self.cause == SHORT_OF_REVIEWERS:
            values = {"count": self.allowed, "need": self.need}
            if self.asked_before:
                if not self.allowed:
                    return _("no other reviewer of the pool is free of conflicts with it and not asked before "
                             "(needs %(need)d)") % values
                return ngettext(
                    "only %(count)d reviewer of the pool is free of conflicts with it and not asked before "
                    "(needs %(need)d)",
                    "only %(count)d reviewers of the pool are free of conflicts with it and not asked before "
                    "(needs %(need)d)",
                    self.allowed,
                ) % values
            if not self.allowed:
                return _("no reviewer of the pool is free of conflicts with it (needs %(need)d)") % values
            return ngettext(
                "only %(count)d reviewer of the pool is free of conflicts with it (needs %(need)d)",
                "only %(count)d reviewers of the pool are free of conflicts with it (needs %(need)d)",
                self.allowed,
            ) % values
        if self.missing == self.need:
            return _("the eligible reviewers are all at their maximum load of %(max_load)d") % {"max_load": self.max_load}
        return _("the other eligible reviewers are at their maximum load of %(max_load)d") % {"max_load": self.max_load}


@dataclass(frozen=True)
class Solution:
    pairs: list[tuple[int, int]]  # (proposal id, reviewer id), in proposal then reviewer order
    uncovered: list[Shortfall]
    target_load: int  # L = ceil(mean)
    max_load: int  # L + 1: nobody ends above it unless they already were
    cost: int = 0  # the flow's total cost: BIG per +1 slot used, minus the keyword matches
    seconds: dict[str, float] = field(default_factory=dict)  # "network" (building it), "solve"

    @property
    def missing(self) -> int:
        return sum(short.missing for short in self.uncovered)


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


# --- Keyword affinity ------------------------------------------------------------------------------------

_NOT_A_WORD = re.compile(r"[\W_]+")
_KEYWORD_SEPARATORS = re.compile(r"[,;]")


def _normalise(text: str) -> str:
    """Casefold, strip accents (any script), and reduce punctuation to single spaces."""
    text = unicodedata.normalize("NFKD", (text or "").casefold())
    text = "".join(char for char in text if not unicodedata.combining(char))
    return " ".join(_NOT_A_WORD.sub(" ", text).split())


def keywords_normalise(text: str) -> frozenset[str]:
    """The distinct keywords of a comma-separated list, normalised; empty items dropped."""
    return frozenset(filter(None, (_normalise(item) for item in _KEYWORD_SEPARATORS.split(text or ""))))


def affinity(proposal_keywords: str, proposal_title: str, reviewer_keywords: str) -> int:
    """How many of the reviewer's keywords the proposal has among its keywords or, as whole words, in its
    title. Keywords are compared casefolded, without accents, punctuation as spaces."""
    return affinities(proposals={0: (proposal_keywords, proposal_title)}, reviewers={0: reviewer_keywords}).get((0, 0), 0)


def affinities(*, proposals: Mapping[int, tuple[str, str]], reviewers: Mapping[int, str]) -> dict[tuple[int, int], int]:
    """``affinity`` of every (proposal id, reviewer id) pair that has one (pairs with none are left out).

    ``proposals`` maps an id to (keywords, title), ``reviewers`` an id to keywords. A keyword is "in the
    title as whole words" when its words follow each other in the title's, so each proposal is indexed
    by its keywords and the runs of its title's words; the work grows with the matches found, not with
    proposals × reviewers (a 5,000 × 1,000 panel is 5 million pairs).
    """
    wanted = {reviewer_id: keywords_normalise(keywords) for reviewer_id, keywords in reviewers.items()}
    terms = frozenset().union(*wanted.values())
    if not terms:
        return {}
    longest = max(term.count(" ") + 1 for term in terms)
    holders: defaultdict[str, list[int]] = defaultdict(list)  # term → the proposals that have it
    for proposal_id, (keywords, title) in proposals.items():
        words = _normalise(title).split()
        found = set(keywords_normalise(keywords))
        found.update(" ".join(words[start:start + size]) for size in range(1, longest + 1)
                     for start in range(len(words) - size + 1))
        for term in found & terms:
            holders[term].append(proposal_id)
    scores: Counter[tuple[int, int]] = Counter()
    for reviewer_id, keywords in wanted.items():
        for term in keywords:
            for proposal_id in holders.get(term, ()):
                scores[(proposal_id, reviewer_id)] += 1
    return dict(scores)
