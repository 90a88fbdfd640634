"""Thin tasks: ids in, load, render, send. Mail to reviewers: the invitation and a reopened review."""

from celery import shared_task
from django.urls import reverse

from iea.mail import send_templated

from .models import Assignment, AssignmentState, Review


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_assignment_invitation(assignment_id: int) -> None:
    """Title, abstract and teams as submitted (for the conflict check), the due date and the link."""
    from .domain.scoring import review_material

    assignment = Assignment.objects.select_related(
        "reviewer__user", "proposal__pi", "proposal__call", "panel__institute"
    ).get(pk=assignment_id)
    if assignment.state != AssignmentState.INVITED:
        return  # answered, withdrawn or in conflict since: nothing to invite to
    user = assignment.reviewer.user
    send_templated(
        name="review_invitation", to=[user.email], language=user.language,
        context={
            "assignment": assignment, "proposal": assignment.proposal, "reviewer": user,
            "material": review_material(assignment.proposal),
            "url": reverse("reviewer:invitation", kwargs={"pk": assignment.pk}),
        },
    )


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_review_reopened(review_id: int, reason: str) -> None:
    review = Review.objects.select_related("reviewer__user", "proposal", "assignment").get(pk=review_id)
    user = review.reviewer.user
    send_templated(
        name="review_reopened", to=[user.email], language=user.language,
        context={
            "review": review, "proposal": review.proposal, "reason": reason,
            "url": reverse("reviewer:review", kwargs={"pk": review.assignment_id}),
        },
    )

# Celery discovers ``tasks`` modules only; the directorate's mails live in ``notifications``.
from . import notifications  # noqa: F401,E402
