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
    officers = [Recipient.of(officer) for officer in assignment.panel.officers.order_by("pk")]
    notify(kind="review_conflict_declared", target=assignment, recipients=officers, now=now,
           params={"reason": reason, "was": was})


def notify_ineligible(proposal: Proposal, *, reason: str, now: dt.datetime) -> None:
    notify(kind="screening_ineligible", target=proposal, recipients=[Recipient.of(proposal.pi)], now=now,
           params={"reason": reason})


def notify_bidding_opened(panel, reviewers, *, now: dt.datetime) -> None:
    """The pool is invited to bid on the panel's proposals (``reviews.domain.bids.panel_bidding_set``); each
    person once per panel, so closing and opening again mails only those who were not in the pool before
    (``reviewer.user`` loaded)."""
    notify_all(dues=[Due(kind="bidding_invitation", target=panel, recipients=[Recipient.of(r.user) for r in reviewers],
                         occurrence="", due_at=now)], now=now)


def notify_outcome_digests(digests: list[dict], *, kind: str, now: dt.datetime) -> None:
    """Each reviewer gets the digest of the outcomes of the proposals they reviewed in one batch of decisions
    (``domain.outcome``): target the call, occurrence the batch's moment, the proposals' ids as parameters."""
    notify_all(dues=[
        Due(kind=kind, target=digest["call"], recipients=[Recipient.of(digest["user"])],
            occurrence=digest["occurrence"], due_at=now, params={"proposals": digest["proposals"]})
        for digest in digests
    ], now=now)


def notify_message(message, *, recipients: list, now: dt.datetime) -> None:
    """Each person on the other side of a conversation gets one mail per message (#21), never twice: the
    outbox records one (kind, message, recipient)."""
    notify(kind="message_new", target=message, recipients=[Recipient.of(user) for user in recipients], now=now)
