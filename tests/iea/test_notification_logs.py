"""No log line holds a message's body, a link's token or an attachment: every kind of message, sent through
the outbox by a working SMTP server and refused by one whose content filter quotes the whole message back."""

import base64
import datetime as dt
import re
import smtplib

import pytest
from django.conf import settings as django_settings
from django.core.mail.backends.locmem import EmailBackend
from django.utils import timezone

from funding.models import CosignInvitation, Report
from iea.notifications.domain import deliver, notify
from iea.notifications.kinds import KINDS, Recipient
from iea.notifications.models import Notification
from iea.site.privacy.models import ErasureRequest
from proposals.domain.partner import invitation_create
from proposals.models import Proposal, ProposalState
from tests.api.world import build_world

SECRET = "s3cr3t-0ne-time-t0ken-Zq81"
LINK = f"https://iea.example.org/accounts/password/reset/key/{SECRET}/"
ACCOUNT_PARAMS = {"subject": "Reset your password", "body": f"Follow {LINK} to choose a new password.",
                  "html": f'<p><a href="{LINK}">Choose a new password</a></p>', "from_email": "iea@example.org"}


class QuotingRefusal(EmailBackend):
    """An SMTP server whose content filter refuses every message, quoting it whole in its answer."""

    refused: list = []

    def send_messages(self, messages):
        quote = messages[0].message().as_bytes()
        type(self).refused.append((messages[0], quote))
        raise smtplib.SMTPDataError(554, b"5.7.1 Message refused by the content filter: " + quote)


def record_one_of_each_kind(now) -> list[int]:
    missing = sorted({kind.model.__name__ for kind in KINDS.values()
                      if kind.model is not None and not kind.model._default_manager.exists()})
    assert missing == []
    for kind in KINDS.values():
        target = kind.model._default_manager.order_by("pk").first() if kind.model is not None else None
        notify(kind=kind.name, target=target, recipients=[Recipient(email="someone@example.org", language="en")],
               now=now, occurrence="log-test", params=ACCOUNT_PARAMS if kind.name == "account" else {"token": SECRET})
    return list(Notification.objects.filter(occurrence="log-test").values_list("pk", flat=True))


def secrets_of(messages) -> list[str]:
    """What no log line may hold: the token, every link, every line of every body, every attachment."""
    found = [SECRET]
    for message in messages:
        texts = [message.body, *(content for content, _mimetype in getattr(message, "alternatives", []))]
        for text in texts:
            found += re.findall(r"https?://\S+?(?=[\s\"<>]|$)", text)
            found += [line.strip() for line in text.splitlines() if len(line.strip()) >= 30]
        for _name, content, _mimetype in message.attachments:
            raw = content if isinstance(content, bytes) else content.encode()
            found += [base64.b64encode(raw)[:40].decode(), repr(raw[:40])[2:-1]]
    return found


@pytest.fixture
def world(db):
    """Objects for every kind: the API's world, a partner's and a co-signer's invitation, an erasure request."""
    now = timezone.now()
    build_world("staff")
    draft = Proposal.objects.filter(state=ProposalState.DRAFT).order_by("pk").first()
    invitation_create(proposal_id=draft.pk, user=draft.pi, email="ana@usp.example.br", language="en", now=now)
    CosignInvitation.objects.create(report=Report.objects.order_by("pk").first(), email="ana@usp.example.br",
                                    created_at=now, expires_at=now + dt.timedelta(days=30))
    ErasureRequest.objects.create(user=draft.pi, requested_at=now)
    # #21: a co-applicant's invitation, a request for information, a message, an amendment.
    from funding.domain.amendments import amendment_request  # noqa: PLC0415 -- #21's targets only
    from funding.models import Award  # noqa: PLC0415
    from proposals.models import CoApplicant, InformationRequest  # noqa: PLC0415
    from reviews.domain.messages import message_post  # noqa: PLC0415

    CoApplicant.objects.create(proposal=draft, email="colleague@cnrs.example.fr", invited_at=now, invited_by=draft.pi)
    InformationRequest.objects.create(proposal=draft, items=["letter"], message="Please send the signed letter.",
                                      asked_at=now, asked_by=draft.pi, deadline=now + dt.timedelta(days=7))
    message_post(proposal_id=draft.pk, topic="proposal", user=draft.pi, text="Our letter is on its way.", now=now)
    award = Award.objects.order_by("pk").first()
    amendment_request(award_id=award.pk, user=award.proposal.pi, kind="extension", months=2,
                      reason="The field season moved.", now=now)


def test_sent_messages_leave_no_secret_in_the_logs(world, mailoutbox, log_output, django_capture_on_commit_callbacks):
    ids = record_one_of_each_kind(timezone.now())
    result = deliver(ids)
    lines, text = log_output()

    assert (result.failed, result.retrying) == (0, 0)
    assert result.sent + result.skipped == len(KINDS)
    assert [s for s in secrets_of(mailoutbox) if s in text] == []


def test_refused_messages_leave_no_secret_in_the_logs(world, settings, log_output):
    settings.EMAIL_BACKEND = f"{__name__}.QuotingRefusal"
    settings.NOTIFICATIONS = {**django_settings.NOTIFICATIONS, "MAX_ATTEMPTS": 2, "RETRY_BASE": 60}
    QuotingRefusal.refused = []
    ids = record_one_of_each_kind(timezone.now())

    first = deliver(ids)
    second = deliver(ids, now=timezone.now() + dt.timedelta(minutes=5))
    lines, text = log_output()

    assert first.retrying == second.failed > 0
    refused = [message for message, _quote in QuotingRefusal.refused]
    assert any(SECRET in m.body for m in refused) and any(m.attachments for m in refused)
    quoted = b"".join(quote for _message, quote in QuotingRefusal.refused).decode(errors="replace")
    leaked = [chunk for chunk in re.split(r"\r?\n", quoted) if len(chunk.strip()) >= 30 and chunk.strip() in text]
    assert ([s for s in secrets_of(refused) if s in text], leaked) == ([], [])
    # Each failure is still logged, with what an operator needs: the row, the kind, the address, the code.
    outbox_lines = [line for line in lines if line["logger"] == "iea.notifications.domain"]
    assert len(outbox_lines) == first.retrying + second.failed
    assert all(line["message"].endswith(": SMTPDataError: 554") for line in outbox_lines)
