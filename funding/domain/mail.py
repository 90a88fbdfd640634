"""The funding's mails, queued in the outbox by the state changes of ``funding.domain``.

A leaf: it imports the models and the outbox, nothing else of the app. The kinds these functions name
(their templates, contexts and skip rules) are declared in ``funding.notifications``, which imports the
domain; the domain calls these functions, so neither side needs the other inside a function.
"""

import datetime as dt

from iea.notifications.domain import notify
from iea.notifications.kinds import Recipient

from ..models import Award, AwardState, CosignInvitation, Report, Tranche


def notify_award_answer(award: Award, *, now: dt.datetime) -> None:
    """The unit's managers learn that the PI accepted or declined the award (domain.md, "Reserve list")."""
    answer = "accepted" if award.state == AwardState.ACTIVE else "declined"
    notify(kind="award_answer", target=award, now=now, occurrence=answer, params={"answer": answer},
           recipients=[Recipient.of(manager) for manager in award.unit.managers.all()])


def notify_tranche(tranche: Tranche, *, now: dt.datetime) -> None:
    award = tranche.award
    recipients = [Recipient.of(award.proposal.pi), *(Recipient.of(m) for m in award.unit.managers.all())]
    notify(kind="tranche_notice", target=tranche, recipients=recipients, now=now, occurrence=now.isoformat())


def notify_cosign(invitation: CosignInvitation, *, now: dt.datetime) -> None:
    notify(kind="report_cosign", target=invitation, recipients=[Recipient(email=invitation.email, language="en")],
           now=now)


def notify_report(kind: str, report: Report, *, now: dt.datetime) -> None:
    notify(kind=kind, target=report, recipients=[Recipient.of(report.award.proposal.pi)], now=now,
           occurrence=now.isoformat())
