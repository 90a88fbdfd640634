"""Thin tasks of the review: the automatic assignment of a panel, run in the background (ids in).

The name is pinned: ``reviews.domain.assignment_job.RUN_TASK`` queues it by name, and a message already
queued must find it after this module moves.
"""

from celery import shared_task

from .domain.assignment_job import assignment_job_run


@shared_task(name="reviews.tasks.run_assignment_job", ignore_result=True)
def run_assignment_job(job_id: int) -> str:
    """Safe to deliver twice: the job records its assignments once (``assignment_job_run``)."""
    job = assignment_job_run(job_id=job_id)
    return job.state if job is not None else "nothing to do"
