"""The reminders of reviews due (domain.md, notifications: "review due −7 d, −2 d, +1 d → reviewer; at
+3 d the officer is told"):

- ``review_reminder``: the reviewer, at each step of the call's ``review_reminder_days`` relative to the
  assignment's due date, while the invitation is open or accepted and the review not submitted;
- ``review_overdue``: the officers of the panel, ``review_escalation_days`` after the due date, once,
  however long the review then stays missing.

A review is waited for while its assignment is invited or accepted, by an active reviewer (a deactivated
one has lost access), on a proposal the directorate has not decided yet. Each schedule reads every such
assignment in a constant number of queries (one, and one more for the officers) and works out the step
in Python, so a due date moved by the officer moves its reminders; a step already on record is not
repeated.
"""

import datetime as dt

from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from iea.notifications.kinds import (
    Due,
    Kind,
    Recipient,
    current_step,
    parse_offsets,
    register,
    schedule,
    step_label,
)
from proposals.models import ProposalState

from .domain.scoring import review_material
from .models import Assignment, AssignmentState, ReviewState
from .rules import OPEN_ASSIGNMENT_STATES

# Until the directorate decides, a missing review is still wanted (a ranked proposal may be re-ranked).
UNDER_REVIEW = [ProposalState.ELIGIBLE, ProposalState.IN_REVIEW, ProposalState.RANKED]


def _waiting() -> QuerySet[Assignment]:
    """The assignments whose review is still awaited (same rule as ``_still_waiting``)."""
    return (
        Assignment.objects.filter(state__in=OPEN_ASSIGNMENT_STATES, reviewer__active=True,
                                  proposal__state__in=UNDER_REVIEW)
        .exclude(review__state=ReviewState.SUBMITTED)
    )


def _still_waiting(assignment: Assignment) -> str:
    """Why the review is no longer awaited ("" while it is), checked again when the mail goes out."""
    review = getattr(assignment, "review", None)
    if assignment.state not in OPEN_ASSIGNMENT_STATES:
        return _("The assignment was declined or withdrawn.")
    if review is not None and review.state == ReviewState.SUBMITTED:
        return _("The review was submitted.")
    if not assignment.reviewer.active:
        return _("The reviewer was taken out of the pool.")
    if assignment.proposal.state not in UNDER_REVIEW:
        return _("The proposal is no longer under review.")
    return ""


def _context(assignment: Assignment, notification) -> dict:
    """The proposal's title as submitted (what the invitation showed), and the due date: the templates
    say how long is left or how late it is at the time the mail goes out."""
    material = review_material(assignment.proposal)
    return {"assignment": assignment, "proposal": assignment.proposal, "panel": assignment.panel,
            "reviewer": assignment.reviewer.user,
            "title": material.content.get("title", "") if material else assignment.proposal.title,
            "due": assignment.due_at, "late": assignment.due_at <= timezone.now(),
            "invited": assignment.state == AssignmentState.INVITED}


def _reviewer_context(assignment: Assignment, notification) -> dict:
    """Links to the invitation while it is unanswered, to the review once accepted."""
    page = "reviewer:invitation" if assignment.state == AssignmentState.INVITED else "reviewer:review"
    return {**_context(assignment, notification), "url": reverse(page, kwargs={"pk": assignment.pk})}


def _officer_context(assignment: Assignment, notification) -> dict:
    return {**_context(assignment, notification),
            "url": reverse("panel:table", kwargs={"panel_id": assignment.panel_id})}


_ASSIGNMENT = {"model": Assignment,
               "select_related": ("reviewer__user", "proposal__call", "panel__institute", "review"),
               "skip": lambda assignment, notification, now: _still_waiting(assignment)}
register(Kind(name="review_reminder", label=_("Reminder: review due"), template="review_reminder",
              context=_reviewer_context, **_ASSIGNMENT))
register(Kind(name="review_overdue", label=_("Late review, to the panel's officers"), template="review_overdue",
              context=_officer_context, **_ASSIGNMENT))


@schedule
def review_reminders(now: dt.datetime):
    """−7/−2/+1 days from each awaited review's due date, to the reviewer. A step that had already begun
    when the reviewer was invited is not sent: the invitation gave the due date a moment ago."""
    offsets_of: dict[int, list[int]] = {}
    for assignment in _waiting().select_related("reviewer__user", "proposal__call"):
        call = assignment.proposal.call
        if call.pk not in offsets_of:
            offsets_of[call.pk] = parse_offsets(call.review_reminder_days)
        step = current_step(offsets_of[call.pk], assignment.due_at, now)
        if step is None or step[1] < assignment.created_at:
            continue
        offset, moment = step
        yield review_reminder_due(assignment, occurrence=step_label(offset), due_at=moment)


def review_reminder_due(assignment: Assignment, *, occurrence: str, due_at: dt.datetime) -> Due:
    """The reminder of one awaited review, to its reviewer."""
    return Due(kind="review_reminder", target=assignment, recipients=[Recipient.of(assignment.reviewer.user)],
               occurrence=occurrence, due_at=due_at)


def review_reminder_dues(assignments, now: dt.datetime) -> list[Due]:
    """The reminders of these assignments, sent now by hand (``iea.notifications.domain.remind_now`` sets the
    occurrence); the kind's ``skip`` says which are no longer awaited."""
    return [review_reminder_due(assignment, occurrence="", due_at=now) for assignment in assignments]


@schedule
def overdue_reviews(now: dt.datetime):
    """``review_escalation_days`` after the due date, to the panel's officers: due from then on, so a
    missed tick or an outage only delays it; recorded once per assignment and officer."""
    late = (
        _waiting().filter(due_at__lte=now).select_related("proposal__call", "panel")
        .prefetch_related("panel__officers")
    )
    for assignment in late:
        days = assignment.proposal.call.review_escalation_days
        moment = assignment.due_at + dt.timedelta(days=days)
        if now < moment:
            continue
        officers = [Recipient.of(officer) for officer in sorted(assignment.panel.officers.all(), key=lambda user: user.pk)]
        if officers:
            yield Due(kind="review_overdue", target=assignment, recipients=officers, occurrence=f"+{days}d",
                      due_at=moment)
