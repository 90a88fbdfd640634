"""Thin tasks of the review: the automatic assignment of a panel and its affinities, run in the background
(ids in).

The names are pinned: ``reviews.domain.assignment_job.RUN_TASK`` and ``reviews.domain.affinities.COMPUTE_TASK``
queue them by name, and a message already queued must find it after this module moves.
"""

from celery import shared_task
from django.utils import timezone

from .domain.affinities import affinities_compute
from .domain.assignment_job import assignment_job_run
from .selectors import panel_affinities


@shared_task(name="reviews.tasks.run_assignment_job", ignore_result=True)
def run_assignment_job(job_id: int) -> str:
    """Safe to deliver twice: the job records its assignments once (``assignment_job_run``)."""
    job = assignment_job_run(job_id=job_id, stored_affinities=panel_affinities)
    return job.state if job is not None else "nothing to do"


@shared_task(name="reviews.tasks.compute_affinities", ignore_result=True)
def compute_affinities(panel_id: int) -> int:
    """Safe to deliver twice: each run replaces the panel's affinities with what its texts give now. Returns
    how many pairs were stored."""
    return affinities_compute(panel_id=panel_id, now=timezone.now()).stored
