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
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

from django.db.models import Count, Prefetch, Q

from iea.audit.domain import audit_record
from proposals.models import TeamMember

from ..models import Assignment, Panel, Reviewer, ReviewState
from ..rules import OPEN_ASSIGNMENT_STATES, panel_proposals
from .assignment import REVIEWABLE_STATES, assignments_record
from .conflicts import conflicted_pairs, conflicts_record_detected_all
from .matching import ProposalNeed, ReviewerCapacity, Shortfall, Solution, affinities

# The phases, in order, as ``auto_assign_plan`` reports them (the job shows them with a percentage).
READING, CONFLICTS, SOLVING = "reading", "conflicts", "solving"


PROPOSAL_FIELDS = ("pk", "reference", "pi", "unit", "partner_email", "partner_name", "partner_institution",
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


@dataclass
class Plan:
    panel: Panel
    user: object
    state: PanelState
    solution: Solution
    references: dict[int, str]  # proposal id → reference, for the summary
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
            "highest_load": max(loads.values(), default=0),
            "seconds": {name: round(value, 3) for name, value in self.plan.seconds.items()},
        }


def _proposals(panel: Panel, user):
    return panel_proposals(panel, user).filter(state__in=REVIEWABLE_STATES)


def _panel_state(panel: Panel, proposal_ids: list[int], reviewer_ids: list[int]) -> PanelState:
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
    )


def auto_assign_plan(*, panel_id: int, user, now: dt.datetime, report: Callable[[str], None] = lambda phase: None) -> Plan:
    """Choose the reviewers each reviewable proposal of the panel still needs, from the institute's active
    pool (``matching``), after recording the conflicts detected between them (so the officer sees them).

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
    state = _panel_state(panel, [p.pk for p in proposals], [r.pk for r in reviewers])
    seconds["read"] += time.perf_counter() - started
    started = time.perf_counter()
    scores = affinities(proposals={p.pk: (p.keywords, p.title) for p in proposals},
                        reviewers={r.pk: r.keywords for r in reviewers})
    counted, loads = dict(state.counted), dict(state.loads)
    # numpy and OR-tools load here, in the worker that solves, not in every web process (see solver.py).
    from .solver import solve  # noqa: PLC0415 -- 0.7 s and ~40 MB a web worker never needs

    solution = solve(
        proposals=[ProposalNeed(p.pk, panel.reviews_per_proposal - counted.get(p.pk, 0)) for p in proposals],
        reviewers=[ReviewerCapacity(r.pk, loads.get(r.pk, 0)) for r in reviewers],
        conflicts=set(state.conflicts), existing=set(state.existing), affinity=scores,
    )
    seconds["network"] = time.perf_counter() - started - solution.seconds["solve"]
    seconds["solve"] = solution.seconds["solve"]
    return Plan(panel=panel, user=user, state=state, solution=solution,
                references={p.pk: p.reference for p in proposals}, reviewers={r.pk: r for r in reviewers},
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
    reviewer_ids = list(Reviewer.objects.filter(institute_id=plan.panel.institute_id, active=True)
                        .order_by("pk").values_list("pk", flat=True))
    if _panel_state(plan.panel, list(locked), reviewer_ids) != plan.state:
        raise PanelChanged
    created = assignments_record(
        panel=plan.panel, pairs=[(locked[p], plan.reviewers[r]) for p, r in plan.solution.pairs], user=plan.user,
        now=now, automatic=True,
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


def shortfall_of(item: dict) -> Shortfall:
    """A proposal left short, from a job's stored summary, so its reason reads in today's language."""
    return Shortfall(**{name: item[name] for name in Shortfall.__dataclass_fields__})
