"""The partner declines to co-sign a report, with a comment (issue #15): the report goes back to the PI
(who reads the comment on the report's and the award's pages and by mail, in their language), the link stops
working and says why, the PI changes and submits again and the partner gets a new link."""

import pytest
from django.urls import reverse
from django.utils import timezone

from funding.domain.awards import FundingError
from funding.domain.reports import cosign_resolve, report_cosign_decline
from funding.models import CosignInvitation, ReportState
from iea import formats
from iea.audit.models import AuditEntry

from .factories import award_factory, cast
from .test_pi_views import report_of, submit, url

pytestmark = pytest.mark.django_db


@pytest.fixture
def award(pi, staff):
    return award_factory(pi=pi, staff=staff)


@pytest.fixture
def token(client, award):
    token = submit(client, award)
    client.logout()
    return token


def decline(client, token, name="Ana Souza", comment="The mission to Recife is missing from the spending."):
    return client.post(reverse("funding:cosign", args=[token]),
                       {"action": "decline", "decline-signer_name": name, "decline-comment": comment},
                       HTTP_ACCEPT_LANGUAGE="en")


def test_declining_returns_the_report_to_the_pi_who_is_told(client, award, token, mailoutbox,
                                                            django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = decline(client, token)
    assert response.status_code == 302
    report = report_of(award)
    assert (report.state, report.cosign_declined_by, report.cosign_decline_comment) == (
        ReportState.COSIGN_DECLINED, "Ana Souza <ana@usp.example.br>",
        "The mission to Recife is missing from the spending.")
    assert report.cosigned_at is None
    entry = AuditEntry.objects.get(action="report.cosign_decline")
    assert (entry.from_state, entry.to_state, entry.reason, entry.actor_label.startswith("partner <ana@")) == (
        "submitted", "declined", "The mission to Recife is missing from the spending.", True)
    [message] = [m for m in mailoutbox if m.to == [award.proposal.pi.email]]
    assert message.subject.startswith(
        f"The partner declined to co-sign the {report.get_period_display()} report of {award.proposal.reference}")
    assert "The mission to Recife is missing from the spending." in message.body
    assert "Ana Souza <ana@usp.example.br> declined to co-sign your" in message.body

    # The link no longer opens the report, and says why.
    page = client.get(reverse("funding:cosign", args=[token]), HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 403
    assert (f"You declined to co-sign this report on {formats.datetime(report.cosign_declined_at)}; the PI has your "
            "comment.") in page.content.decode()


def test_the_mail_is_in_the_pis_language(client, award, token, mailoutbox, django_capture_on_commit_callbacks):
    type(award.proposal.pi).objects.filter(pk=award.proposal.pi_id).update(language="fr")
    with django_capture_on_commit_callbacks(execute=True):
        decline(client, token)
    [message] = [m for m in mailoutbox if m.to == [award.proposal.pi.email]]
    assert "a refusé de cosigner" in message.subject
    assert "The mission to Recife is missing from the spending." in message.body


def test_the_pi_reads_the_comment_then_changes_and_submits_again(client, award, token, mailoutbox):
    decline(client, token)
    client.force_login(award.proposal.pi)
    html = client.get(url("report", award), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "The partner declined to co-sign" in html
    assert "The mission to Recife is missing from the spending." in html
    assert 'name="action" value="submit"' in html  # the form is open again
    award_html = client.get(url("award", award), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "The partner's comment: The mission to Recife is missing from the spending." in award_html

    new_token = submit(client, award)
    assert new_token != token
    assert report_of(award).state == ReportState.SUBMITTED
    assert CosignInvitation.objects.filter(report__award=award, revoked_at__isnull=True).count() == 1


@pytest.mark.parametrize(("name", "comment", "field", "message"), [
    ("Ana Souza", "  ", "comment", "Say why you do not co-sign, so that the PI can address it."),
    ("", "Something is missing.", "signer_name", "Type your name."),
])
def test_a_decline_needs_a_name_and_a_comment(client, award, token, name, comment, field, message):
    response = decline(client, token, name=name, comment=comment)
    assert response.status_code == 400
    assert response.context["decline_form"].errors[field] == [message]
    assert report_of(award).state == ReportState.SUBMITTED
    # What the partner typed is still there.
    if comment.strip():
        assert comment in response.content.decode()


def test_a_cosigned_report_cannot_be_declined_afterwards(client, award, token):
    invitation = cosign_resolve(token, now=timezone.now())
    client.post(reverse("funding:cosign", args=[token]), {"signer_name": "Ana Souza"})
    assert report_of(award).state == ReportState.COSIGNED
    with pytest.raises(FundingError):
        report_cosign_decline(invitation=invitation, signer_name="Ana", comment="Too late.", now=timezone.now())
    assert report_of(award).state == ReportState.COSIGNED


@pytest.mark.parametrize("link", ["replaced", "expired", "forged"])
def test_a_replaced_expired_or_forged_link_cannot_decline(client, award, token, link):
    now = timezone.now()
    if link == "replaced":
        CosignInvitation.objects.update(revoked_at=now)
    elif link == "expired":
        CosignInvitation.objects.update(expires_at=now)
    else:
        token = token[:-4] + "abcd"
    response = decline(client, token)
    assert response.status_code == 403
    assert report_of(award).state == ReportState.SUBMITTED


def test_only_the_pi_and_those_who_see_the_award_read_the_comment(client, award, token, staff):
    decline(client, token)
    people = cast(award, staff=staff)
    for who in ("other_pi", "reviewer", "other_unit_manager"):
        client.force_login(people[who])
        response = client.get(url("report", award))
        assert response.status_code == 404, who
