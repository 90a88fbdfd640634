"""The automatic assignment of a panel, in two steps the background job (``assignment_job``) runs:

1. ``auto_assign_plan`` reads the panel, records the conflicts detected between its proposals and the
   pool, and chooses the reviewers (``solver.solve``; the rule is in ``matching``'s docstring). It holds no lock:
   the officers keep working while it runs.
2. ``auto_assign_record``, inside the caller's transaction, locks the proposals, reads again what the
   choice depends on and, if nothing changed, records the assignments (``assignments_record``: states,
   audit, invitations). If something changed — a reviewer assigned by hand, a conflict declared, a
   reviewer added — it raises ``PanelChanged`` and the job plans again: a choice is never recorded on a
   panel it was not made for.

The proposals are those of the panel the officer who started it may see (``panel_proposals``): an
officer in conflict with a proposal does not choose its reviewers, even automatically.
"""

import datetime as dt
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field

from django.db.models import Count, Prefetch, Q

from iea.audit.domain import audit_record
from proposals.models import TeamMember

from ..models import Assignment, Bid, Panel, Reviewer, ReviewerCap, ReviewState
from ..rules import OPEN_ASSIGNMENT_STATES, panel_proposals
from .assignment import REVIEWABLE_STATES, assignments_record
from .availability import review_period, users_away
from .conflicts import conflicted_pairs, conflicts_record_detected_all
from .matching import ProposalNeed, ReviewerCapacity, Shortfall, Solution, affinities

# The stored affinities of a panel, {(proposal id, reviewer id): (score 0–1000, terms)}: ``reviews.selectors.
# panel_affinities``, handed in by the task (the selectors sit above the domain, which cannot import them).
StoredAffinities = Callable[[int], Mapping[tuple[int, int], tuple[int, list[str]]]]

# The phases, in order, as ``auto_assign_plan`` reports them (the job shows them with a percentage).
READING, CONFLICTS, SOLVING = "reading", "conflicts", "solving"


PROPOSAL_FIELDS = ("pk", "reference", "call", "pi", "unit", "partner_email", "partner_name", "partner_institution",
                   "keywords", "title")
MEMBER_FIELDS = ("pk", "proposal", "side", "name", "email", "institution")


class PanelChanged(Exception):
    """What the choice depended on changed between the plan and its recording."""


@dataclass(frozen=True)
class PanelState:
    """What the choice depends on, as the database holds it: read for the plan, read again under the
    proposals' locks before recording it, and compared."""

    proposal_ids: tuple[int, ...]  # the reviewable proposals the officer may see
    reviewer_ids: tuple[int, ...]  # the institute's active pool
    conflicts: frozenset[tuple[int, int]]
    existing: frozenset[tuple[int, int]]  # every assignment of these proposals, in any state
    counted: frozenset[tuple[int, int]]  # (proposal id, assignments that count towards its N reviews)
    loads: frozenset[tuple[int, int]]  # (reviewer id, open assignments in this panel)
    caps: frozenset[tuple[int, int]] = frozenset()  # (reviewer id, maximum): their own, else the panel's default
    away: frozenset[int] = frozenset()  # reviewers away for more than half of the review period
    bids: frozenset[tuple[int, int, str]] = frozenset()  # (proposal id, reviewer id, BidValue)
    affinity_computed_at: dt.datetime | None = None  # when the stored affinities were computed


@dataclass
class Plan:
    panel: Panel
    user: object
    state: PanelState
    solution: Solution
    references: dict[int, str]  # proposal id → reference, for the summary
    reasons: dict[tuple[int, int], dict]  # why each pair was chosen (``Assignment.reasons``)
    reviewers: dict[int, Reviewer]  # with their user, for the invitations
    conflicts_recorded: int
    seconds: dict[str, float] = field(default_factory=dict)


@dataclass
class AutoAssignResult:
    created: list[Assignment]
    plan: Plan

    def summary(self) -> dict:
        """What the officer reads afterwards (stored as JSON with the job): the numbers, each proposal left
        short with what its reason is made of (worded in the reader's language when shown), the loads."""
        solution = self.plan.solution
        state = self.plan.state
        loads = Counter(dict(state.loads))
        loads.update(Counter(reviewer_id for _, reviewer_id in solution.pairs))
        return {
            "proposals": len(state.proposal_ids), "reviewers": len(state.reviewer_ids), "created": len(self.created),
            "uncovered": [{**asdict(short), "reference": self.plan.references[short.proposal_id]}
                          for short in solution.uncovered],
            "missing": solution.missing, "conflicts_recorded": self.plan.conflicts_recorded,
            "target_load": solution.target_load, "max_load": solution.max_load,
            "away": len(state.away), "capped": len(state.caps), "bids": len(state.bids),
            "stored_affinity": state.affinity_computed_at is not None,
            "highest_load": max(loads.values(), default=0),
            "seconds": {name: round(value, 3) for name, value in self.plan.seconds.items()},
        }


def _proposals(panel: Panel, user):
    return panel_proposals(panel, user).filter(state__in=REVIEWABLE_STATES)


def _panel_state(panel: Panel, proposal_ids: list[int], reviewers: list[Reviewer], now: dt.datetime) -> PanelState:
    reviewer_ids = [reviewer.pk for reviewer in reviewers]
    # Read again, not taken from ``panel``: the officer may have changed them since the plan.
    panel_default, computed_at = Panel.objects.filter(pk=panel.pk).values_list(
        "default_max_reviews", "affinity_computed_at").get()
    assignments = Assignment.objects.filter(proposal_id__in=proposal_ids)
    # What still counts towards the N reviews: open or done, by an active reviewer or already submitted.
    counting = assignments.filter(state__in=OPEN_ASSIGNMENT_STATES).filter(
        Q(reviewer__active=True) | Q(review__state=ReviewState.SUBMITTED)
    )
    return PanelState(
        proposal_ids=tuple(proposal_ids), reviewer_ids=tuple(reviewer_ids),
        conflicts=frozenset(conflicted_pairs(proposal_ids=proposal_ids, reviewer_ids=reviewer_ids)),
        existing=frozenset(assignments.values_list("proposal_id", "reviewer_id")),
        counted=frozenset(counting.values_list("proposal_id").annotate(n=Count("id")).order_by()),
        loads=frozenset(
            Assignment.objects.filter(panel=panel, reviewer_id__in=reviewer_ids, state__in=OPEN_ASSIGNMENT_STATES)
            .values_list("reviewer_id").annotate(n=Count("id")).order_by()
        ),
        caps=frozenset(_caps(panel_default, panel, reviewer_ids).items()),
        away=frozenset(_away(panel, reviewers, now)),
        bids=frozenset(Bid.objects.filter(panel=panel, proposal_id__in=proposal_ids, reviewer_id__in=reviewer_ids)
                       .values_list("proposal_id", "reviewer_id", "value")),
        affinity_computed_at=computed_at,
    )


def _caps(panel_default: int | None, panel: Panel, reviewer_ids: list[int]) -> dict[int, int]:
    """Each reviewer's maximum: their own (``ReviewerCap``), else the panel's default, else none."""
    own = dict(ReviewerCap.objects.filter(panel=panel, reviewer_id__in=reviewer_ids)
               .values_list("reviewer_id", "max_reviews"))
    if panel_default is not None:
        return {reviewer_id: own.get(reviewer_id, panel_default) for reviewer_id in reviewer_ids}
    return own


def _away(panel: Panel, reviewers: list[Reviewer], now: dt.datetime) -> set[int]:
    """The reviewers away for more than half of the review period (``reviews.domain.availability``)."""
    start, end = review_period(panel, now)
    gone = users_away(user_ids={reviewer.user_id for reviewer in reviewers}, start=start, end=end)
    return {reviewer.pk for reviewer in reviewers if reviewer.user_id in gone}


def auto_assign_plan(*, panel_id: int, user, now: dt.datetime, report: Callable[[str], None] = lambda phase: None,
                     stored_affinities: StoredAffinities | None = None) -> Plan:
    """Choose the reviewers each reviewable proposal of the panel still needs, from the institute's active
    pool (``matching``), after recording the conflicts detected between them (so the officer sees them).
    It weighs each reviewer's maximum and absences, their bids, and the affinities ``stored_affinities``
    returns for the panel — or, when there are none (never computed), the keyword matches.

    A pair is never chosen when a conflict is stored for it or the reviewer was already asked (in any
    state: who declined is not asked again). Load = the reviewer's assignments in this panel that are
    invited or accepted (a submitted review still counts). ``report`` is told each phase as it starts.
    """
    seconds = {}
    started = time.perf_counter()
    report(READING)
    panel = Panel.objects.select_related("call", "institute").get(pk=panel_id)
    # What the conflict rules, the keyword affinity and the summary read, and nothing else.
    proposals = list(
        _proposals(panel, user).select_related("unit").only(*PROPOSAL_FIELDS)
        .prefetch_related(Prefetch("team", TeamMember.objects.only(*MEMBER_FIELDS))).order_by("pk")
    )
    reviewers = list(Reviewer.objects.filter(institute_id=panel.institute_id, active=True)
                     .select_related("user", "unit").order_by("pk"))
    seconds["read"] = time.perf_counter() - started

    report(CONFLICTS)
    started = time.perf_counter()
    recorded = conflicts_record_detected_all(proposals=proposals, reviewers=reviewers, now=now)
    seconds["conflicts"] = time.perf_counter() - started

    report(SOLVING)
    started = time.perf_counter()
    state = _panel_state(panel, [p.pk for p in proposals], reviewers, now)
    stored = dict(stored_affinities(panel.pk)) if stored_affinities is not None else {}
    seconds["read"] += time.perf_counter() - started
    started = time.perf_counter()
    if stored:
        scores = {pair: score for pair, (score, _terms) in stored.items()}
    else:  # never computed for this panel: the keyword matches, as before #20
        scores = affinities(proposals={p.pk: (p.keywords, p.title) for p in proposals},
                            reviewers={r.pk: r.keywords for r in reviewers})
    counted, loads = dict(state.counted), dict(state.loads)
    # numpy and OR-tools load here, in the worker that solves, not in every web process (see solver.py).
    from .solver import solve  # noqa: PLC0415 -- 0.7 s and ~40 MB a web worker never needs

    solution = solve(
        proposals=[ProposalNeed(p.pk, panel.reviews_per_proposal - counted.get(p.pk, 0)) for p in proposals],
        reviewers=[ReviewerCapacity(r.pk, loads.get(r.pk, 0)) for r in reviewers],
        conflicts=set(state.conflicts), existing=set(state.existing), affinity=scores,
        caps=dict(state.caps), bids={(p, r): value for p, r, value in state.bids}, unavailable=state.away,
    )
    seconds["network"] = time.perf_counter() - started - solution.seconds["solve"]
    seconds["solve"] = solution.seconds["solve"]
    return Plan(panel=panel, user=user, state=state, solution=solution,
                references={p.pk: p.reference for p in proposals}, reviewers={r.pk: r for r in reviewers},
                reasons=_reasons(solution, state, scores, stored),
                conflicts_recorded=recorded, seconds=seconds)


def auto_assign_record(plan: Plan, *, now: dt.datetime) -> AutoAssignResult:
    """Record the plan's assignments, inside the caller's transaction: lock the panel's reviewable
    proposals (the lock ``assignment_create`` takes, so no assignment by hand slips in between), check that
    nothing the choice depends on changed (else ``PanelChanged``), then record and audit them."""
    started = time.perf_counter()
    locked = {
        proposal.pk: proposal for proposal in
        _proposals(plan.panel, plan.user).select_for_update(of=("self",)).only("pk", "state", "reference").order_by("pk")
    }
    reviewers = list(Reviewer.objects.filter(institute_id=plan.panel.institute_id, active=True)
                     .order_by("pk").only("pk", "user_id"))
    if _panel_state(plan.panel, list(locked), reviewers, now) != plan.state:
        raise PanelChanged
    created = assignments_record(
        panel=plan.panel, pairs=[(locked[p], plan.reviewers[r]) for p, r in plan.solution.pairs], user=plan.user,
        now=now, automatic=True, reasons=plan.reasons,
    )
    plan.seconds["write"] = time.perf_counter() - started
    result = AutoAssignResult(created=created, plan=plan)
    summary = result.summary()
    audit_record(
        actor=plan.user, target=plan.panel, action="panel.auto_assign", now=now,
        data={key: summary[key] for key in ("proposals", "reviewers", "created", "missing", "conflicts_recorded",
                                            "max_load")} | {"uncovered": len(summary["uncovered"])},
    )
    return result


def _reasons(solution: Solution, state: PanelState, scores: Mapping, stored: Mapping) -> dict[tuple[int, int], dict]:
    """Why each chosen pair was made, as codes and numbers (worded when shown, ``matching.assignment_why``): its
    affinity (stored score and terms, or the count of keyword matches), the reviewer's bid, their load before
    this run and after it, and the most they may have (their maximum, or the balance's ``L + 1``)."""
    loads, caps = dict(state.loads), dict(state.caps)
    bids = {(p, r): value for p, r, value in state.bids}
    after = Counter(loads)
    after.update(Counter(reviewer_id for _, reviewer_id in solution.pairs))
    reasons = {}
    for pair in solution.pairs:
        reviewer_id = pair[1]
        score, terms = stored.get(pair, (0, [])) if stored else (0, [])
        reasons[pair] = {
            "affinity": score, "terms": list(terms)[:5], "bid": bids.get(pair, ""),
            "load": loads.get(reviewer_id, 0), "after": after[reviewer_id],
            "max": min(caps.get(reviewer_id, solution.max_load), solution.max_load),
        } | ({} if stored else {"keywords": scores.get(pair, 0)})
    return reasons


def shortfall_of(item: dict) -> Shortfall:
    """A proposal left short, from a job's stored summary, so its reason reads in today's language (summaries
    stored before a field was added read it as its default)."""
    fields = Shortfall.__dataclass_fields__
    return Shortfall(**{name: item[name] for name in fields if name in item})
