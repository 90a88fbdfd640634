"""The review's mails, queued in the outbox by the state changes of ``reviews.domain``.

A leaf: it imports the models and the outbox, nothing else of the app. The kinds these functions name
(their templates, contexts and skip rules) are declared in ``reviews.notifications``, which imports the
domain; the domain calls these functions, so neither side needs the other inside a function.
"""

import datetime as dt

from iea.notifications.domain import notify, notify_all
from iea.notifications.kinds import Due, Recipient
from proposals.models import Proposal

from ..models import Assignment, Review


def notify_assigned(assignment: Assignment, *, now: dt.datetime) -> None:
    notify_assigned_all([assignment], now=now)


def notify_assigned_all(assignments: list[Assignment], *, now: dt.datetime) -> None:
    """Each reviewer gets the invitation of their assignment (``reviewer.user`` loaded)."""
    notify_all(dues=[Due(kind="review_invitation", target=assignment, recipients=[Recipient.of(assignment.reviewer.user)],
                         occurrence="", due_at=now) for assignment in assignments], now=now)


def notify_reopened(review: Review, *, reason: str, now: dt.datetime) -> None:
    notify(kind="review_reopened", target=review, recipients=[Recipient.of(review.reviewer.user)], now=now,
           occurrence=now.isoformat(), params={"reason": reason})


def notify_conflict_declared(assignment: Assignment, *, reason: str, was: str, now: dt.datetime) -> None:
    """The panel's officers learn that a reviewer withdrew for a conflict, so they can ask someone else."""
    officers = [Recipient.of(officer) for officer in assignment.panel.officers.all()]
    notify(kind="review_conflict_declared", target=assignment, recipients=officers, now=now,
           params={"reason": reason, "was": was})


def notify_ineligible(proposal: Proposal, *, reason: str, now: dt.datetime) -> None:
    notify(kind="screening_ineligible", target=proposal, recipients=[Recipient.of(proposal.pi)], now=now,
           params={"reason": reason})
