"""The PI's evaluation summary (``reviews.views.pi``), under the proposal's address: it reaches the PI only
once the decision mail went out, an early link says when it comes, and nobody else learns it exists."""

import pytest
from django.urls import reverse
from django.utils import timezone

from proposals import domain
from proposals.letters import check_pdf
from reviews.models import Decision
from tests.pdfs import pdf_upload

pytestmark = pytest.mark.django_db


@pytest.fixture
def submitted(draft, pi):
    now = timezone.now()
    letter = domain.letter_attach(proposal_id=draft.pk, pdf=check_pdf(pdf_upload()), now=now, user=pi)
    version = domain.proposal_submit(proposal_id=draft.pk, user=pi, now=now).version
    return draft, letter, version


def test_evaluation_summary_reaches_the_pi_only_after_the_decision_mail(client, submitted, pi, other_pi, staff):
    proposal = submitted[0]
    url = reverse("evaluation:summary", args=[proposal.pk])
    client.force_login(pi)
    detail = reverse("proposals:detail", args=[proposal.pk])
    assert client.get(url)["Location"] == detail  # no decision yet: the proposal's page says when it comes
    type(proposal).objects.filter(pk=proposal.pk).update(state="selected")
    decision = Decision.objects.create(proposal=proposal, outcome="selected", amount=12000, decided_at=timezone.now(),
                                       decided_by=staff)
    assert client.get(url)["Location"] == detail  # decided, but not announced
    assert b"Download the evaluation summary" not in client.get(reverse("proposals:detail", args=[proposal.pk])).content
    decision.notified_at = timezone.now()
    decision.save()
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Disposition"] == f'attachment; filename="evaluation-{proposal.reference}.pdf"'
    assert response.content.startswith(b"%PDF")
    assert b"Download the evaluation summary" in client.get(reverse("proposals:detail", args=[proposal.pk])).content
    client.force_login(other_pi)
    assert client.get(url).status_code == 404
    client.logout()
    assert client.get(url).status_code == 302


def test_the_evaluation_summary_link_before_the_decision_mail_says_when_it_comes(client, submitted, pi):
    proposal, _letter, _version = submitted
    client.force_login(pi)
    response = client.get(reverse("evaluation:summary", args=[proposal.pk]), follow=True,
                          HTTP_ACCEPT_LANGUAGE="en")
    assert response.redirect_chain == [(reverse("proposals:detail", args=[proposal.pk]), 302)]
    assert [str(m) for m in response.context["messages"]] == [
        "The evaluation summary is available here once the decision is sent to you."]
    assert "Content-Disposition" not in response


def test_another_pi_gets_no_evaluation_summary_link(client, submitted, other_pi):
    proposal, _letter, _version = submitted
    client.force_login(other_pi)
    assert client.get(reverse("evaluation:summary", args=[proposal.pk])).status_code == 404
