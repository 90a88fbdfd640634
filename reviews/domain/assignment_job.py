"""The automatic assignment as a background job: the officer starts it, a Celery worker runs it
(``reviews.tasks``), the page shows its progress and then what it did.

- ``assignment_job_start``: one job at a time per panel (the database's partial unique constraint, and the
  panel's row lock so the refusal can say who started the running one); audited; the task is queued once
  the transaction commits.
- ``assignment_job_run`` (the task): claims the job, runs ``auto_assign_plan`` reporting each phase, then
  records the assignments and marks the job done in ONE transaction that holds the job's row lock and
  checks its claim. A task delivered twice, retried, or started again after a worker died records the
  assignments once: the second finds the job done (or claimed by another run) and does nothing; a run
  whose claim was taken over (it stalled) cannot record anything.
- ``assignment_job_view``: the job as the page shows it to one reader, in their language.
"""

import datetime as dt
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from celery import current_app
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from iea import formats
from iea.audit.domain import audit_record
from iea.errors import DomainError

from ..models import ACTIVE_JOB_STATES, AssignmentJob, Conflict, Panel
from ..models import AssignmentJobState as State
from .affinities import affinities_ensure
from .auto_assign import (
    CONFLICTS,
    READING,
    SOLVING,
    PanelChanged,
    StoredAffinities,
    auto_assign_plan,
    auto_assign_record,
    shortfall_of,
)
from .matching import Shortfall

log = logging.getLogger(__name__)

# The task, by the name ``reviews/tasks.py`` pins (the tasks import this module, so it is found by name).
RUN_TASK = "reviews.tasks.run_assignment_job"
RECORDING, DONE = "recording", "done"
# Each phase: how far along the job is when it starts, and what the page says.
PHASES = {
    "": (0, gettext_lazy("Waiting for a worker to start it")),
    READING: (5, gettext_lazy("Reading the panel")),
    CONFLICTS: (20, gettext_lazy("Checking conflicts of interest")),
    SOLVING: (40, gettext_lazy("Choosing the reviewers")),
    RECORDING: (80, gettext_lazy("Recording the assignments")),
    DONE: (100, gettext_lazy("Done")),
}
ERRORS = {
    "stalled": gettext_lazy("It stopped without finishing (no worker reported for ten minutes). Nothing was "
                            "assigned: start it again."),
    "changing": gettext_lazy("The panel kept changing while it ran (reviewers assigned by hand, conflicts "
                             "recorded). Nothing was assigned: start it again."),
    "queue": gettext_lazy("It could not be handed to the background workers. Nothing was assigned: try again "
                          "in a few minutes, and tell the directorate if it fails again."),
    "internal": gettext_lazy("It stopped on an unexpected error, which is logged. Nothing was assigned: try "
                             "again, and tell the directorate if it fails again."),
}
# How many times a run plans again when the panel changed before it could record.
PLANS = 3
UNCOVERED_SHOWN = 100


class JobLost(Exception):
    """This run's claim is gone: the job finished, failed, or another run took it over."""


def assignment_job_start(*, panel_id: int, user, now: dt.datetime) -> AssignmentJob:
    """Start the automatic assignment of a panel in the background (the rule is in ``auto_assign``).

    Refused while another one of the panel is queued or running, with who started it and when; a job
    silent for ``JOB_STALLED_AFTER`` is marked failed instead and no longer blocks. The caller has checked
    that ``user`` may manage the panel (``reviews.rules.can_manage_panel``).
    """
    with transaction.atomic():
        panel = Panel.objects.select_for_update(no_key=True).get(pk=panel_id)
        for running in AssignmentJob.objects.filter(panel=panel, state__in=ACTIVE_JOB_STATES).select_related("started_by"):
            if not running.stalled(now):
                raise _already_running(running)
            _fail(running, error="stalled", now=now)
        job = AssignmentJob(panel=panel, started_by=user, created_at=now, celery_task_id=uuid.uuid4().hex)
        try:
            with transaction.atomic():
                job.save(force_insert=True)
        except IntegrityError:  # another officer's start won the race since the lock above was taken
            raise _already_running(AssignmentJob.objects.get(panel=panel, state__in=ACTIVE_JOB_STATES)) from None
        audit_record(actor=user, target=panel, action="panel.auto_assign_start", now=now, data={"job": job.pk})
        transaction.on_commit(partial(_queue, job.pk, job.celery_task_id))
    return job


def _already_running(job: AssignmentJob) -> DomainError:
    return DomainError(
        _("An automatic assignment of this panel is already under way (started by %(who)s at %(when)s): its "
          "progress is shown below.") % {
            "who": job.started_by or _("someone no longer registered"),
            "when": formats.time(job.created_at)},
        code="running",
    )


def _queue(job_id: int, task_id: str) -> None:
    """After the start commits: hand the job to the workers. A broker that cannot be reached fails the job
    at once, with the reason, rather than leaving it queued for nobody."""
    try:
        current_app.tasks[RUN_TASK].apply_async((job_id,), task_id=task_id)
    except Exception as error:  # noqa: BLE001 -- any failure to publish means no worker will run it
        log.warning("assignment job %s: could not be queued (%s: %s)", job_id, type(error).__name__, error)
        job = AssignmentJob.objects.filter(pk=job_id, state=State.QUEUED).first()
        if job is not None:
            _fail(job, error="queue", now=timezone.now())


def assignment_job_run(*, job_id: int, clock: Callable[[], dt.datetime] = timezone.now,
                       stored_affinities: StoredAffinities | None = None) -> AssignmentJob | None:
    """Run a queued job to its end (the Celery task). Returns the job finished by this run, or None when
    there was nothing for it to do: already done or failed, or running elsewhere and not stalled.

    ``clock`` gives the time of each step (the run lasts seconds to minutes); tests pin it. ``stored_affinities``
    reads the panel's computed affinities (the task hands ``reviews.selectors.panel_affinities``).
    """
    claim = _claim(job_id, clock())
    if claim is None:
        return None
    report = partial(_report, job_id, claim, clock)
    try:
        # The reviewers are chosen on the panel's stored affinities: computed first if stale or never computed.
        affinities_ensure(panel_id=AssignmentJob.objects.values_list("panel_id", flat=True).get(pk=job_id), now=clock())
        for _attempt in range(PLANS):
            job = AssignmentJob.objects.select_related("started_by").get(pk=job_id)
            plan = auto_assign_plan(panel_id=job.panel_id, user=job.started_by, now=clock(), report=report,
                                    stored_affinities=stored_affinities)
            report(RECORDING)
            try:
                with transaction.atomic():
                    job = _locked(job_id, claim)
                    now = clock()
                    result = auto_assign_record(plan, now=now)
                    job.state, job.phase, job.progress = State.DONE, DONE, 100
                    job.finished_at = job.heartbeat_at = clock()
                    job.result = result.summary()
                    job.save(update_fields=["state", "phase", "progress", "finished_at", "heartbeat_at", "result"])
                return job
            except PanelChanged:
                log.info("assignment job %s: the panel changed while it was planned; planning again", job_id)
        with transaction.atomic():
            _fail(_locked(job_id, claim), error="changing", now=clock())
    except JobLost:
        log.warning("assignment job %s: this run lost its claim (the job stalled and was taken over or failed)", job_id)
        return None
    except Exception:
        log.exception("assignment job %s failed", job_id)
        with transaction.atomic():
            job = AssignmentJob.objects.select_for_update().get(pk=job_id)
            if job.state == State.RUNNING and job.claim == claim:
                _fail(job, error="internal", now=clock())
    return AssignmentJob.objects.get(pk=job_id)


def _claim(job_id: int, now: dt.datetime) -> str | None:
    """Take the job for this run: a queued one, or a running one whose run stalled. None otherwise."""
    with transaction.atomic():
        job = AssignmentJob.objects.select_for_update().filter(pk=job_id).first()
        if job is None or not (job.state == State.QUEUED or (job.state == State.RUNNING and job.stalled(now))):
            return None
        job.claim = uuid.uuid4().hex
        job.state, job.phase, job.progress = State.RUNNING, "", 0
        job.started_at = job.started_at or now
        job.heartbeat_at = now
        job.attempts += 1
        job.save(update_fields=["claim", "state", "phase", "progress", "started_at", "heartbeat_at", "attempts"])
        return job.claim


def _report(job_id: int, claim: str, clock: Callable[[], dt.datetime], phase: str) -> None:
    """Write the phase that starts (committed at once, so the page shows it) — only while the claim holds."""
    updated = AssignmentJob.objects.filter(pk=job_id, state=State.RUNNING, claim=claim).update(
        phase=phase, progress=PHASES[phase][0], heartbeat_at=clock())
    if not updated:
        raise JobLost


def _locked(job_id: int, claim: str) -> AssignmentJob:
    job = AssignmentJob.objects.select_for_update().get(pk=job_id)
    if job.state != State.RUNNING or job.claim != claim:
        raise JobLost
    return job


def _fail(job: AssignmentJob, *, error: str, now: dt.datetime) -> None:
    """Mark the job failed with the reason (a code of ``ERRORS``), audited; the callers hold its row or
    know nothing else writes it."""
    with transaction.atomic():
        job.state, job.error, job.finished_at = State.FAILED, error, now
        job.save(update_fields=["state", "error", "finished_at"])
        audit_record(actor=None, target=job.panel, action="panel.auto_assign_fail", now=now,
                     data={"job": job.pk, "error": error})


# --- What the page shows ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class JobView:
    job: AssignmentJob | None
    active: bool  # queued or running, not stalled: the page polls
    percent: int
    phase: str  # in words
    error: str  # in words, when it failed
    summary: dict  # the stored result
    uncovered: list[tuple[int, str, Shortfall]]  # (proposal id, reference, why) the reader may see
    uncovered_more: int  # further ones, not listed


def assignment_job_view(*, panel: Panel, user, now: dt.datetime) -> JobView:
    """The panel's latest job as ``user`` reads it: a job silent too long reads as failed ("stalled"); the
    proposals left short are listed without those the reader is in conflict with. Two queries."""
    job = AssignmentJob.objects.filter(panel=panel).select_related("started_by").first()
    if job is None:
        return JobView(None, False, 0, "", "", {}, [], 0)
    stalled = job.stalled(now)
    error = str(ERRORS.get("stalled" if stalled else job.error, "")) if stalled or job.state == State.FAILED else ""
    summary = job.result or {}
    items = summary.get("uncovered", [])
    hidden = set(Conflict.objects.filter(proposal_id__in=[item["proposal_id"] for item in items], reviewer__user=user)
                 .values_list("proposal_id", flat=True)) if items and user.is_authenticated else set()
    visible = [item for item in items if item["proposal_id"] not in hidden]
    percent, phase = PHASES.get(DONE if job.state == State.DONE else job.phase, PHASES[""])
    return JobView(
        job=job, active=job.active and not stalled, percent=percent, phase=str(phase), error=error, summary=summary,
        uncovered=[(item["proposal_id"], item["reference"], shortfall_of(item)) for item in visible[:UNCOVERED_SHOWN]],
        uncovered_more=max(0, len(visible) - UNCOVERED_SHOWN),
    )
