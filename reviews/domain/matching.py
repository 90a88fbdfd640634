"""Automatic assignment: give each proposal of a panel the reviewers it still needs.

The rule (domain.md, "Review"): a proposal needs ``Panel.reviews_per_proposal`` non-conflicted reviews.
Automatic assignment asks for the missing ones, never pairs a proposal with a reviewer in conflict with
it or already asked (a reviewer who declined is not asked again), and spreads the work: no reviewer ends
above ``ceil(mean) + 1``, where ``mean = (current loads + reviews still needed) / active reviewers``.

Algorithm: a minimum-cost maximum flow, solved exactly by ``networkx.max_flow_min_cost``, which finds
the value of a maximum flow (preflow-push), then the cheapest flow of that value with the primal network
simplex (integer costs, so the optimum is exact). The network is

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

Size: a panel of 600 proposals needing 2 reviews each, over 120 reviewers, is a network of ~72,000
arcs; ``solve`` takes about 3 s on one core (networkx is pure Python; the network simplex is most of it),
1,000 × 150 about 7 s. No arc is pruned: pruning could lose coverage, which the rule puts first.
"""

import datetime as dt
import math
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

import networkx as nx
from django.db import transaction
from django.db.models import Count, Q
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from iea.audit.domain import audit_record
from proposals.models import Proposal

from ..models import Assignment, Conflict, ConflictSource, Panel, Reviewer, ReviewState
from ..rules import OPEN_ASSIGNMENT_STATES, panel_proposals
from .assignment import REVIEWABLE_STATES, assignment_create
from .conflicts import conflicted_pairs, conflicts_detect, conflicts_record_detected

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

    @property
    def missing(self) -> int:
        return sum(short.missing for short in self.uncovered)


_SOURCE, _SINK = "source", "sink"


def solve(
    *,
    proposals: list[ProposalNeed],
    reviewers: list[ReviewerCapacity],
    conflicts: set[tuple[int, int]],
    existing: set[tuple[int, int]],
    affinity: dict[tuple[int, int], int],
) -> Solution:
    """Choose (proposal, reviewer) pairs: as many as possible, balanced, then best keyword match.

    Pure (no database). ``conflicts`` and ``existing`` are (proposal id, reviewer id) pairs that must not
    be chosen; ``affinity`` gives the keyword matches of a pair (missing = 0). See the module docstring.
    """
    if len({p.id for p in proposals}) != len(proposals) or len({r.id for r in reviewers}) != len(reviewers):
        raise ValueError("proposal and reviewer ids must be unique")
    wanted = [p for p in proposals if p.need > 0]
    total_need = sum(p.need for p in wanted)
    target = math.ceil((sum(r.load for r in reviewers) + total_need) / len(reviewers)) if reviewers else 0
    max_load = target + 1
    room = {r.id: max(0, max_load - r.load) for r in reviewers}  # 0 for a reviewer above L
    forbidden = conflicts | existing

    graph = nx.DiGraph()
    graph.add_node(_SOURCE)
    graph.add_node(_SINK)
    big = max(affinity.values(), default=0) * total_need + 1
    for reviewer in reviewers:
        if not room[reviewer.id]:
            continue
        node = ("r", reviewer.id)
        base = max(0, target - reviewer.load)
        if base:
            graph.add_edge(node, _SINK, capacity=base, weight=0)
        overflow = ("o", reviewer.id)
        graph.add_edge(node, overflow, capacity=1, weight=big)
        graph.add_edge(overflow, _SINK, capacity=1, weight=0)
    open_reviewers = [r.id for r in reviewers if room[r.id]]
    for proposal in wanted:
        node = ("p", proposal.id)
        graph.add_edge(_SOURCE, node, capacity=proposal.need, weight=0)
        for reviewer_id in open_reviewers:
            pair = (proposal.id, reviewer_id)
            if pair not in forbidden:
                graph.add_edge(node, ("r", reviewer_id), capacity=1, weight=-affinity.get(pair, 0))

    flow = nx.max_flow_min_cost(graph, _SOURCE, _SINK) if wanted and open_reviewers else {}

    pairs: list[tuple[int, int]] = []
    uncovered: list[Shortfall] = []
    for proposal in wanted:
        out = flow.get(("p", proposal.id), {})
        chosen = [r.id for r in reviewers if out.get(("r", r.id), 0) > 0]
        pairs.extend((proposal.id, reviewer_id) for reviewer_id in chosen)
        if len(chosen) < proposal.need:
            conflict_free = [r.id for r in reviewers if (proposal.id, r.id) not in conflicts]
            allowed = sum(1 for reviewer_id in conflict_free if (proposal.id, reviewer_id) not in existing)
            uncovered.append(Shortfall(
                proposal_id=proposal.id, need=proposal.need, missing=proposal.need - len(chosen),
                cause=SHORT_OF_REVIEWERS if allowed < proposal.need else SHORT_OF_CAPACITY,
                allowed=allowed, asked_before=len(conflict_free) - allowed, max_load=max_load,
            ))
    return Solution(pairs=pairs, uncovered=uncovered, target_load=target, max_load=max_load)


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


@dataclass(frozen=True)
class _ProposalTerms:
    keywords: frozenset[str]
    title: str  # normalised, padded with spaces so " keyword " finds whole words only

    @classmethod
    def of(cls, keywords: str, title: str) -> "_ProposalTerms":
        return cls(keywords_normalise(keywords), f" {_normalise(title)} ")

    def matches(self, reviewer_keywords: Iterable[str]) -> int:
        return sum(1 for keyword in reviewer_keywords if keyword in self.keywords or f" {keyword} " in self.title)


def affinity(proposal_keywords: str, proposal_title: str, reviewer_keywords: str) -> int:
    """How many of the reviewer's keywords the proposal has among its keywords or, as whole words, in its
    title. Keywords are compared casefolded, without accents, punctuation as spaces."""
    return _ProposalTerms.of(proposal_keywords, proposal_title).matches(keywords_normalise(reviewer_keywords))


# --- The panel ----------------------------------------------------------------------------------------------


@dataclass
class AutoAssignResult:
    created: list[Assignment] = field(default_factory=list)
    uncovered: list[tuple[Proposal, str]] = field(default_factory=list)
    conflicts_recorded: int = 0


def panel_auto_assign(*, panel_id: int, user, now: dt.datetime) -> AutoAssignResult:
    """Give every reviewable proposal of the panel the reviewers it still needs, from the institute's
    active pool (see the module docstring for how they are chosen), and say which proposals stay short
    and why.

    Detected conflicts of every (proposal, reviewer) pair of the panel are recorded first, so the officer
    sees them. A pair is never proposed when a conflict is stored for it or the reviewer was already
    asked (in any state: who declined is not asked again). Load = the reviewer's assignments in this panel
    that are invited or accepted (a submitted review still counts). Each assignment goes through
    ``assignment_create`` (which re-checks conflicts and mails the reviewer on commit). All of it runs in
    one transaction holding the panel row, so two officers starting it at once do not double-assign; the
    second run then finds nothing left to do.
    """
    with transaction.atomic():
        panel = Panel.objects.select_for_update(of=("self",)).select_related("call", "institute").get(pk=panel_id)
        proposals = list(
            panel_proposals(panel, None).filter(state__in=REVIEWABLE_STATES)
            .select_related("unit").prefetch_related("team").order_by("pk")
        )
        reviewers = list(
            Reviewer.objects.filter(institute_id=panel.institute_id, active=True)
            .select_related("user", "unit").order_by("pk")
        )
        proposal_ids = [p.pk for p in proposals]
        reviewer_ids = [r.pk for r in reviewers]

        recorded = _record_detected_conflicts(proposals, reviewers, now)
        conflicts = conflicted_pairs(proposal_ids=proposal_ids, reviewer_ids=reviewer_ids)
        assignments = Assignment.objects.filter(proposal_id__in=proposal_ids)
        existing = set(assignments.values_list("proposal_id", "reviewer_id"))
        # What still counts towards the N reviews: open or done, by an active reviewer or already submitted.
        counting = assignments.filter(state__in=OPEN_ASSIGNMENT_STATES).filter(
            Q(reviewer__active=True) | Q(review__state=ReviewState.SUBMITTED)
        )
        counted = dict(counting.values_list("proposal_id").annotate(n=Count("id")).order_by())
        loads = dict(
            Assignment.objects.filter(panel=panel, reviewer_id__in=reviewer_ids, state__in=OPEN_ASSIGNMENT_STATES)
            .values_list("reviewer_id").annotate(n=Count("id")).order_by()
        )

        terms = {p.pk: _ProposalTerms.of(p.keywords, p.title) for p in proposals}
        reviewer_keywords = {r.pk: keywords_normalise(r.keywords) for r in reviewers}
        scores = {}
        for proposal_id, proposal_terms in terms.items():
            for reviewer_id, keywords in reviewer_keywords.items():
                if keywords and (score := proposal_terms.matches(keywords)):
                    scores[(proposal_id, reviewer_id)] = score

        solution = solve(
            proposals=[ProposalNeed(p.pk, panel.reviews_per_proposal - counted.get(p.pk, 0)) for p in proposals],
            reviewers=[ReviewerCapacity(r.pk, loads.get(r.pk, 0)) for r in reviewers],
            conflicts=conflicts, existing=existing, affinity=scores,
        )

        by_id = {p.pk: p for p in proposals}
        reviewer_by_id = {r.pk: r for r in reviewers}
        result = AutoAssignResult(conflicts_recorded=recorded)
        for proposal_id, reviewer_id in solution.pairs:
            result.created.append(assignment_create(
                panel=panel, proposal=by_id[proposal_id], reviewer=reviewer_by_id[reviewer_id], user=user, now=now,
                automatic=True,
            ))
        result.uncovered = [(by_id[short.proposal_id], short.reason) for short in solution.uncovered]
        audit_record(
            actor=user, target=panel, action="panel.auto_assign", now=now,
            data={
                "proposals": len(proposals), "reviewers": len(reviewers), "created": len(result.created),
                "uncovered": len(solution.uncovered), "missing": solution.missing,
                "conflicts_recorded": recorded, "max_load": solution.max_load,
            },
        )
    return result


def _record_detected_conflicts(proposals: list[Proposal], reviewers: list[Reviewer], now: dt.datetime) -> int:
    """Detect conflicts for every pair in memory; store those not stored yet. Returns how many were stored."""
    stored: defaultdict[tuple[int, int], set[str]] = defaultdict(set)
    for proposal_id, reviewer_id, cause in Conflict.objects.filter(
        proposal__in=proposals, reviewer__in=reviewers, source=ConflictSource.DETECTED
    ).values_list("proposal_id", "reviewer_id", "cause"):
        stored[(proposal_id, reviewer_id)].add(cause)
    created = 0
    for proposal in proposals:
        for reviewer in reviewers:
            found = conflicts_detect(proposal=proposal, reviewer=reviewer)
            if any(conflict.cause not in stored.get((proposal.pk, reviewer.pk), ()) for conflict in found):
                created += len(conflicts_record_detected(proposal=proposal, reviewer=reviewer, now=now))
    return created
