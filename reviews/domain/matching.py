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

import re
from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from iea.text import fold

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


# --- Keyword affinity ------------------------------------------------------------------------------------

_KEYWORD_SEPARATORS = re.compile(r"[,;]")


def keywords_normalise(text: str) -> frozenset[str]:
    """The distinct keywords of a comma-separated list, normalised; empty items dropped."""
    return frozenset(filter(None, (fold(item) for item in _KEYWORD_SEPARATORS.split(text or ""))))


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
        words = fold(title).split()
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
