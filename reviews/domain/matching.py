"""Automatic assignment: which reviewers a panel's proposals still need, chosen by a min-cost flow.

The rule (domain.md, "Review"): a proposal needs ``Panel.reviews_per_proposal`` non-conflicted reviews.
Automatic assignment asks for the missing ones, never pairs a proposal with a reviewer in conflict with
it or already asked (a reviewer who declined is not asked again), and spreads the work: no reviewer ends
above ``ceil(mean) + 1``, where ``mean = (current loads + reviews still needed) / active reviewers``.

What else it weighs (issue #20), in a strict order of priority: **coverage**, then **no conflict**, then each
reviewer's **maximum and availability**, then the **balance** of loads, then the reviewers' **bids**, then
**affinity**. Conflicts (a "conflict" bid is one too), a reviewer already asked, and a reviewer away for more
than half of the review period (``reviews.domain.availability``) are pairs or reviewers the network has no arc
for; a reviewer's maximum (``ReviewerCap``, else ``Panel.default_max_reviews``, else none) caps their arc to
the sink. The mean is taken over the reviewers who are not away.

Algorithm: a minimum-cost maximum flow, solved exactly by OR-tools (``SimpleMinCostFlow.
solve_max_flow_with_min_cost``, C++): the value of a maximum flow, then the cheapest flow of that value
(integer costs, so the optimum is exact). The network is

    source → proposal        capacity = reviews still needed,                   cost 0
    proposal → reviewer      capacity 1, only for allowed pairs,                cost = W × bid(pair) − affinity(pair)
    reviewer → sink          capacity base = min(room, max(0, L − load)),      cost 0
    reviewer → overflow → sink   capacity room − base (0 or 1),                cost BIG

with ``L = ceil(mean)``, ``room = max(0, min(max, L + 1) − load)`` (0 for a reviewer away), ``bid`` =
−2 eager, −1 willing, 0 none, +2 rather not, ``A`` = the largest affinity, ``n`` = the reviews needed in all,
``W = A·n + 1`` and ``BIG = n·(4W + A) + 1``. Capacities are integers, so an optimal flow is integral (the
constraint matrix of a network is totally unimodular): each proposal→reviewer arc carries 0 or 1, i.e. is an
assignment, and every unit of flow is one. Why it gives what the rule asks, in its order:

- Coverage. The flow is a *maximum* flow: no other choice of allowed pairs gives more assignments under
  the same limits. In particular every proposal is fully covered whenever that is possible at all
  within ``min(max, L + 1)`` per available reviewer; when it is not, a proposal left short has no augmenting
  path source → proposal → reviewer → sink, so each allowed reviewer not given to it is at their maximum.
  That is what the reason we report says (fewer allowed reviewers than needed, reviewers away, or full —
  at their own maximum or at the balance limit).
- Conflicts, maximum, availability are hard: they are missing arcs or capacities, never costs, so no
  saving elsewhere can buy one.
- Balance. No reviewer ends above ``L + 1``, and a reviewer already above ``L`` gets nothing. Every unit of
  flow crosses exactly one proposal→reviewer arc, whose cost lies in ``[−2W − A, 2W]``: two flows of the same
  value differ by less than ``n·(4W + A) < BIG`` in what their pair arcs cost, so among maximum flows the
  solver uses as few ``+1`` slots as possible; they serve only to cover proposals that could not be covered
  otherwise (typically because of conflicts).
- Bids. Among the flows that are maximum and use the fewest ``+1`` slots, two whose bid totals differ
  differ by at least ``W`` in cost, while their affinity totals differ by at most ``A·n < W``: the bids
  decide first (eager before willing before no bid before rather not).
- Affinity. Among the flows equal in all the above, it takes the one with the highest total affinity (the
  stored TF-IDF score 0–1000 of ``reviews.domain.affinities``, or, for a panel whose affinities were never
  computed, the keyword matches of ``affinities`` below).

So the order is lexicographic, by cost scaling: a loss on one level is never bought by a gain on the levels
below. Loads below ``L`` are not equalised beyond that: a reviewer whose keywords match nothing may get less
than the mean; the cap is what the rule asks for. The largest costs (5,000 proposals × 2 reviews, ``A`` =
1000: ``BIG`` ≈ 4·10¹¹) stay far inside OR-tools' 64-bit range.

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
from django.utils.translation import ngettext, pgettext

from iea.text import fold

# Why a proposal was left short.
SHORT_OF_REVIEWERS = "reviewers"  # fewer allowed reviewers (no conflict, not asked before) than it needs
SHORT_OF_AVAILABLE = "away"  # enough allowed reviewers, but too few of them not away during the review period
SHORT_OF_CAPACITY = "capacity"  # enough available reviewers, but those not given to it are at their maximum load

# The bids that weigh in the cost (``BidValue``; a "conflict" bid is a conflict: no arc), eager first.
BID_WEIGHTS = {"eager": -2, "willing": -1, "": 0, "rather_not": 2}


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
    """A proposal left with fewer reviewers than it needs, and why. Stored as JSON in the job's summary: the
    fields added later (``away``, ``others``, ``at_cap``) default to 0 so older summaries still read."""

    proposal_id: int
    need: int
    missing: int
    cause: str  # SHORT_OF_REVIEWERS, SHORT_OF_AVAILABLE or SHORT_OF_CAPACITY
    allowed: int  # reviewers of the pool free of conflicts with it and not asked before
    asked_before: int  # conflict-free reviewers left out because they were already asked
    max_load: int
    away: int = 0  # of the allowed, those away during the review period
    others: int = 0  # of the allowed and not away, those not given to it (all full)
    at_cap: int = 0  # of ``others``, those at the maximum set for them (their own or the panel's)

    @property
    def reason(self) -> str:
        if self.cause == SHORT_OF_REVIEWERS:
            return self._few_reviewers()
        if self.cause == SHORT_OF_AVAILABLE:
            return ngettext(
                "%(away)d of the %(allowed)d reviewers free of conflicts with it is away during the review period "
                "(needs %(need)d)",
                "%(away)d of the %(allowed)d reviewers free of conflicts with it are away during the review period "
                "(needs %(need)d)",
                self.away,
            ) % {"away": self.away, "allowed": self.allowed, "need": self.need}
        reason = self._full()
        if self.away:
            reason += ngettext("; %(count)d other reviewer is away during the review period",
                               "; %(count)d other reviewers are away during the review period",
                               self.away) % {"count": self.away}
        return reason

    def _few_reviewers(self) -> str:
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

    def _full(self) -> str:
        values = {"count": self.others, "capped": self.at_cap, "max_load": self.max_load}
        everyone = self.missing == self.need
        if self.at_cap and self.at_cap == self.others:
            if everyone:
                return ngettext("the %(count)d eligible reviewer is at the maximum of reviews set for them",
                                "the %(count)d eligible reviewers are at the maximum of reviews set for them",
                                self.others) % values
            return ngettext("the %(count)d other eligible reviewer is at the maximum of reviews set for them",
                            "the %(count)d other eligible reviewers are at the maximum of reviews set for them",
                            self.others) % values
        if self.at_cap:
            return ngettext(
                "the %(count)d eligible reviewers not given to it are full: %(capped)d at the maximum set for them, "
                "the others at the maximum load of %(max_load)d",
                "the %(count)d eligible reviewers not given to it are full: %(capped)d at the maximum set for them, "
                "the others at the maximum load of %(max_load)d",
                self.others,
            ) % values
        if everyone:
            return _("the eligible reviewers are all at their maximum load of %(max_load)d") % values
        return _("the other eligible reviewers are at their maximum load of %(max_load)d") % values


@dataclass(frozen=True)
class Solution:
    pairs: list[tuple[int, int]]  # (proposal id, reviewer id), in proposal then reviewer order
    uncovered: list[Shortfall]
    target_load: int  # L = ceil(mean)
    max_load: int  # L + 1: nobody ends above it unless they already were
    cost: int = 0  # the flow's total cost (see the module docstring)
    seconds: dict[str, float] = field(default_factory=dict)  # "network" (building it), "solve"

    @property
    def missing(self) -> int:
        return sum(short.missing for short in self.uncovered)


# --- Why an assignment was made, worded when shown ------------------------------------------------------------

def assignment_why(reasons: Mapping) -> str:
    """``Assignment.reasons`` (codes and numbers, stored by automatic assignment) in the reader's language, e.g.
    "affinity 72 % (ocean, acidification) · bid: eager · load 3/4". Empty for an assignment made by hand."""
    if not reasons:
        return ""
    parts = []
    if reasons.get("keywords"):
        parts.append(ngettext("%(count)d matching keyword", "%(count)d matching keywords",
                              reasons["keywords"]) % {"count": reasons["keywords"]})
    elif reasons.get("affinity"):
        text = _("affinity %(percent)d %%") % {"percent": round(reasons["affinity"] / 10)}
        if reasons.get("terms"):
            text += f" ({', '.join(reasons['terms'][:3])})"
        parts.append(text)
    else:
        parts.append(_("no particular affinity"))
    bid = reasons.get("bid") or ""
    if bid in BID_LABELS:
        parts.append(_("bid: %(bid)s") % {"bid": BID_LABELS[bid]()})
    if "load" in reasons:
        after = reasons.get("after", reasons["load"] + 1)
        if reasons.get("max"):
            parts.append(_("load %(load)d/%(max)d") % {"load": after, "max": reasons["max"]})
        else:
            parts.append(_("load %(load)d") % {"load": after})
    return " · ".join(parts)


BID_LABELS = {
    "eager": lambda: pgettext("bid", "eager"),
    "willing": lambda: pgettext("bid", "willing"),
    "rather_not": lambda: pgettext("bid", "rather not"),
}


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
