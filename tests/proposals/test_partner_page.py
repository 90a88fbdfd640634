"""The foreign partner's page (issue #15): what the partner needs to decide — the summary, both teams, the
budget with its totals, the current support letter with its state and a download through the same link —
and no invitation to create an account. Links of another proposal, replaced, expired or forged give nothing."""

from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from iea import formats
from proposals import domain
from proposals.letters import check_pdf
from proposals.models import TeamMember, TeamSide
from tests.factories import ProposalFactory
from tests.pdfs import pdf_upload

pytestmark = pytest.mark.django_db


def link(invitation, name="proposals:partner"):
    return reverse(name, args=[domain.invitation_token(invitation)])


def invite(proposal, *, now=None):
    return domain.invitation_create(proposal_id=proposal.pk, user=proposal.pi, email="ana@usp.example.br",
                                    language="en", now=now or timezone.now())


@pytest.fixture
def invitation(draft):
    return invite(draft)


def test_the_partner_sees_the_summary_the_teams_and_the_budget(client, draft, invitation):
    html = client.get(link(invitation), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    for shown in ["Coastal erosion under changing storms", "We study coastal erosion with partners abroad.",
                  "erosion, coasts, storms", "Two missions per year and a workshop.", "Marie Curie", "Ana Souza",
                  "Universidade de São Paulo", draft.call.title, "Budget requested", "Year 2",
                  formats.money(Decimal(3000)), formats.money(Decimal(6000)), formats.money(Decimal(12000))]:
        assert shown in html, shown
    assert "No support letter yet: the proposal cannot be submitted without it." in html


def test_the_partner_is_not_invited_to_create_an_account(client, invitation):
    html = client.get(link(invitation)).content.decode()
    assert reverse("account_signup") not in html
    assert reverse("account_login") not in html
    # Elsewhere, a visitor still is.
    assert reverse("account_signup") in client.get(reverse("calls:list")).content.decode()


def test_the_current_letter_its_state_and_its_download(client, draft, pi, invitation):
    now = timezone.now()
    first = domain.letter_attach(proposal_id=draft.pk, pdf=check_pdf(pdf_upload()), now=now, user=pi)
    html = client.get(link(invitation), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert first.original_name in html
    assert f"Uploaded on {formats.datetime(first.uploaded_at)}" in html
    assert "uploaded by the PI" in html
    assert "Attached to the proposal, which has not been submitted with this letter yet." in html
    assert f'href="{link(invitation, "proposals:partner_letter")}"' in html

    domain.proposal_submit(proposal_id=draft.pk, user=pi, now=now)
    html = client.get(link(invitation), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Part of the proposal as submitted (version 1, " in html

    response = client.get(link(invitation, "proposals:partner_letter"))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    body = b"".join(response.streaming_content) if response.streaming else response.content
    assert body.startswith(b"%PDF")


def test_no_letter_yet_the_download_link_says_so(client, invitation):
    response = client.get(link(invitation, "proposals:partner_letter"), follow=True, HTTP_ACCEPT_LANGUAGE="en")
    assert response.redirect_chain == [(link(invitation), 302)]
    assert [str(m) for m in response.context["messages"]] == ["There is no support letter yet."]


def test_a_replaced_or_expired_link_downloads_nothing(client, draft, pi):
    now = timezone.now()
    domain.letter_attach(proposal_id=draft.pk, pdf=check_pdf(pdf_upload()), now=now, user=pi)
    replaced = invite(draft, now=now)
    current = invite(draft, now=now)
    response = client.get(link(replaced, "proposals:partner_letter"), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 410  # a genuine link that closed: explained, like a closed review
    assert "Content-Disposition" not in response
    assert b"replaced by a newer one" in response.content
    assert client.get(link(current, "proposals:partner_letter")).status_code == 200
    type(current).objects.filter(pk=current.pk).update(expires_at=now - timezone.timedelta(seconds=1))
    response = client.get(link(current, "proposals:partner_letter"), HTTP_ACCEPT_LANGUAGE="en")
    assert (response.status_code, b"expired" in response.content) == (410, True)
    assert "Content-Disposition" not in response


@pytest.mark.parametrize("token", ["garbage", "abc:def"])
def test_a_forged_link_downloads_nothing(client, db, token):
    response = client.get(reverse("proposals:partner_letter", args=[token]))
    assert response.status_code == 403
    assert "Content-Disposition" not in response


def test_the_link_of_another_proposal_gives_its_own_letter_only(client, draft, pi, other_pi, call):
    domain.letter_attach(proposal_id=draft.pk, pdf=check_pdf(pdf_upload()), now=timezone.now(), user=pi)
    other = ProposalFactory(call=call, pi=other_pi, complete=True)
    invitation = invite(other)
    response = client.get(link(invitation, "proposals:partner_letter"))
    assert response.status_code == 302  # the other proposal has no letter: nothing of this one is given
    assert draft.reference.encode() not in client.get(link(invitation)).content


def test_the_page_reads_the_same_number_of_queries_for_a_small_and_a_large_team(client, draft, queries):
    invitation = invite(draft)

    def join(n):
        TeamMember.objects.bulk_create(TeamMember(proposal=draft, side=TeamSide.PARTNER, name=f"Member {n}")
                                       for n in range(n))

    assert queries.at_sizes(join, lambda: client.get(link(invitation))) == (6, 6)
