"""The funding's mails, queued in the outbox by the state changes of ``funding.domain``.

A leaf: it imports the models and the outbox, nothing else of the app. The kinds these functions name
(their templates, contexts and skip rules) are declared in ``funding.notifications``, which imports the
domain; the domain calls these functions, so neither side needs the other inside a function.
"""

import datetime as dt

from iea.notifications.domain import notify
from iea.notifications.kinds import Recipient
from reviews.models import Decision

from ..models import Amendment, Award, AwardState, CosignInvitation, Report, Tranche


def notify_award_answer(award: Award, *, now: dt.datetime) -> None:
    """The unit's managers learn that the PI accepted or declined the award (domain.md, "Reserve list")."""
    answer = "accepted" if award.state == AwardState.ACTIVE else "declined"
    notify(kind="award_answer", target=award, now=now, occurrence=answer, params={"answer": answer},
           recipients=[Recipient.of(manager) for manager in award.unit.managers.order_by("pk")])


def notify_tranche(tranche: Tranche, *, now: dt.datetime) -> None:
    award = tranche.award
    recipients = [Recipient.of(award.proposal.pi), *(Recipient.of(m) for m in award.unit.managers.order_by("pk"))]
    notify(kind="tranche_notice", target=tranche, recipients=recipients, now=now, occurrence=now.isoformat())


def notify_cosign(invitation: CosignInvitation, *, now: dt.datetime) -> None:
    notify(kind="report_cosign", target=invitation, recipients=[Recipient(email=invitation.email, language="en")],
           now=now)


def notify_report(kind: str, report: Report, *, now: dt.datetime) -> None:
    notify(kind=kind, target=report, recipients=[Recipient.of(report.award.proposal.pi)], now=now,
           occurrence=now.isoformat())


def notify_decision(decision: Decision, *, now: dt.datetime) -> None:
    """domain.md: "decision → PI, partner, unit" — the partner in English, the others in their language."""
    proposal = decision.proposal
    notify(kind="decision", target=decision, recipients=[Recipient.of(proposal.pi)], now=now)
    if proposal.partner_email:
        notify(kind="decision_partner", target=decision, now=now,
               recipients=[Recipient(email=proposal.partner_email, language="en")])
    if proposal.unit_id:
        notify(kind="decision_unit", target=decision, now=now,
               recipients=[Recipient.of(manager) for manager in proposal.unit.managers.order_by("pk")])


def notify_promoted(decision: Decision, *, now: dt.datetime) -> None:
    """The PI of a proposal taken from the reserve list: its own mail, not the decision mail again."""
    notify(kind="reserve_promoted", target=decision, recipients=[Recipient.of(decision.proposal.pi)], now=now)


def notify_amendment(kind: str, amendment: Amendment, *, now: dt.datetime) -> None:
    """Amendments (domain.md, "Amendments"): a request → the unit's managers; the unit's opinion → the PI (the
    directorate works from the back office's list of amendments to decide, as for reports to review); the
    decision → the PI and the unit's managers."""
    award = amendment.award
    managers = [Recipient.of(manager) for manager in award.unit.managers.order_by("pk")]
    pi = [Recipient.of(award.proposal.pi)]
    recipients = {"amendment_requested": managers, "amendment_opinion": pi, "amendment_decided": pi + managers}[kind]
    notify(kind=kind, target=amendment, recipients=recipients, now=now)
