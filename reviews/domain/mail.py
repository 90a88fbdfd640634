"""The review's mails, queued in the outbox by the state changes of ``reviews.domain``.

A leaf: it imports the models and the outbox, nothing else of the app. The kinds these functions name
(their templates, contexts and skip rules) are declared in ``reviews.notifications``, which imports the
domain; the domain calls these functions, so neither side needs the other inside a function.
"""

import datetime as dt

from iea.notifications.domain import notify
from iea.notifications.kinds import Recipient
from proposals.models import Proposal

from ..models import Assignment, Decision, Review


def notify_promoted(decision: Decision, *, now: dt.datetime) -> None:
    """The PI of a proposal taken from the reserve list: its own mail, not the decision mail again."""
    notify(kind="reserve_promoted", target=decision, recipients=[Recipient.of(decision.proposal.pi)], now=now)


def notify_assigned(assignment: Assignment, *, now: dt.datetime) -> None:
    notify(kind="review_invitation", target=assignment, recipients=[Recipient.of(assignment.reviewer.user)], now=now)


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


def notify_decision(decision: Decision, *, now: dt.datetime) -> None:
    """domain.md: "decision → PI, partner, unit" — the partner in English, the others in their language."""
    proposal = decision.proposal
    notify(kind="decision", target=decision, recipients=[Recipient.of(proposal.pi)], now=now)
    if proposal.partner_email:
        notify(kind="decision_partner", target=decision, now=now,
               recipients=[Recipient(email=proposal.partner_email, language="en")])
    if proposal.unit_id:
        notify(kind="decision_unit", target=decision, now=now,
               recipients=[Recipient.of(manager) for manager in proposal.unit.managers.all()])
