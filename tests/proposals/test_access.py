"""Who may reach a proposal, its letter and its receipt — in views and downloads."""

import pytest
from django.urls import reverse
from django.utils import timezone

from proposals import domain
from proposals.letters import check_pdf
from reviews.models import Reviewer
from tests.factories import CallFactory, InstituteFactory, ProposalFactory, UserFactory, activate_totp
from tests.pdfs import pdf_upload

pytestmark = pytest.mark.django_db


@pytest.fixture
def submitted(draft, pi):
    now = timezone.now()
    letter = domain.letter_attach(proposal_id=draft.pk, pdf=check_pdf(pdf_upload()), now=now, user=pi)
    version = domain.proposal_submit(proposal_id=draft.pk, user=pi, now=now).version
    return draft, letter, version


def _urls(proposal, letter, version):
    return {
        "detail": ("get", reverse("proposals:detail", args=[proposal.pk])),
        "edit": ("get", reverse("proposals:edit", args=[proposal.pk])),
        "autosave": ("post", reverse("proposals:autosave", args=[proposal.pk])),
        "team_add": ("post", reverse("proposals:team_add", args=[proposal.pk])),
        "letter_upload": ("post", reverse("proposals:letter_upload", args=[proposal.pk])),
        "letter": ("get", reverse("proposals:letter", args=[proposal.pk, letter.pk])),
        "invite": ("post", reverse("proposals:invite", args=[proposal.pk])),
        "submit": ("post", reverse("proposals:submit", args=[proposal.pk])),
        "withdraw": ("post", reverse("proposals:withdraw", args=[proposal.pk])),
        "receipt": ("get", reverse("proposals:receipt", args=[proposal.pk, version.number])),
    }


@pytest.fixture
def reviewer(db):
    user = UserFactory(email="reviewer@example.org")
    activate_totp(user)  # as every reviewer must (iea.mfa): what is tested here is the proposal's rule
    Reviewer.objects.create(user=user, institute=InstituteFactory())
    return user


@pytest.mark.parametrize("name", ["detail", "edit", "autosave", "team_add", "letter_upload", "letter", "invite",
                                  "submit", "withdraw", "receipt"])
def test_anonymous_is_sent_to_sign_in(client, submitted, name):
    method, url = _urls(*submitted)[name]
    response = getattr(client, method)(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


@pytest.mark.parametrize("who", ["other_pi", "reviewer"])
@pytest.mark.parametrize("name", ["detail", "edit", "autosave", "team_add", "letter_upload", "letter", "invite",
                                  "submit", "withdraw", "receipt"])
def test_other_users_get_nothing(client, submitted, request, who, name):
    client.force_login(request.getfixturevalue(who))
    proposal = submitted[0]
    before = (proposal.versions.count(), proposal.letters.count(), proposal.team.count(), proposal.invitations.count())
    method, url = _urls(*submitted)[name]
    response = getattr(client, method)(url, {"name": "Intruder", "side": "cnrs", "email": "x@example.org"} if method == "post" else None)
    assert response.status_code == 404
    proposal.refresh_from_db()
    assert proposal.state == "submitted"
    assert (proposal.versions.count(), proposal.letters.count(), proposal.team.count(), proposal.invitations.count()) == before


@pytest.mark.parametrize("name", ["detail", "letter", "receipt"])
def test_owner_and_staff_can_read(client, submitted, pi, staff, name):
    method, url = _urls(*submitted)[name]
    for user in (pi, staff):
        client.force_login(user)
        assert client.get(url).status_code == 200


@pytest.mark.parametrize("name", ["edit", "autosave", "letter_upload", "submit", "withdraw"])
def test_staff_cannot_act_as_the_pi(client, submitted, staff, name):
    client.force_login(staff)
    method, url = _urls(*submitted)[name]
    assert getattr(client, method)(url).status_code == 404


def test_downloads_are_attachments_with_nosniff(client, submitted, pi):
    client.force_login(pi)
    urls = _urls(*submitted)
    for name in ("letter", "receipt"):
        response = client.get(urls[name][1])
        assert response["Content-Type"] == "application/pdf"
        assert response["Content-Disposition"].startswith("attachment;")
        assert response["X-Content-Type-Options"] == "nosniff"
        body = b"".join(response.streaming_content) if response.streaming else response.content
        assert body.startswith(b"%PDF")


def test_partner_link_of_another_proposal_gives_no_access(client, submitted, pi, other_pi, call):
    proposal, letter, version = submitted
    other = ProposalFactory(call=call, pi=other_pi, complete=True)
    invitation = domain.invitation_create(proposal_id=other.pk, user=other_pi, email="p@example.org", language="en", now=timezone.now())
    token = domain.invitation_token(invitation)
    page = client.get(reverse("proposals:partner", args=[token]))
    assert page.status_code == 200
    assert proposal.title != other.title or proposal.reference.encode() not in page.content
    assert proposal.reference.encode() not in page.content
    # The partner session grants nothing on the PI's pages.
    for name in ("detail", "letter", "receipt"):
        response = client.get(_urls(*submitted)[name][1])
        assert response.status_code == 302


@pytest.mark.parametrize("token", ["garbage", "abc:def", "x" * 40])
def test_forged_partner_links_are_refused(client, db, token):
    response = client.get(reverse("proposals:partner", args=[token]))
    assert response.status_code == 403


def test_revoked_and_expired_partner_links_are_refused(client, draft, pi):
    now = timezone.now()
    first = domain.invitation_create(proposal_id=draft.pk, user=pi, email="p@example.org", language="en", now=now)
    second = domain.invitation_create(proposal_id=draft.pk, user=pi, email="p@example.org", language="fr", now=now)
    assert client.get(reverse("proposals:partner", args=[domain.invitation_token(first)])).status_code == 410
    assert client.get(reverse("proposals:partner", args=[domain.invitation_token(second)])).status_code == 200
    second.expires_at = now - timezone.timedelta(seconds=1)
    second.save()
    response = client.get(reverse("proposals:partner", args=[domain.invitation_token(second)]))
    assert response.status_code == 410
    assert b"expired" in response.content


def test_dashboard_needs_sign_in_and_lists_only_ones_own(client, draft, other_pi, call):
    assert client.get(reverse("dashboard")).status_code == 302
    ProposalFactory(call=CallFactory(), pi=other_pi, title="Mine only", acronym="MINE")
    client.force_login(other_pi)
    body = client.get(reverse("dashboard")).content.decode()
    assert "MINE" in body and draft.acronym not in body


def test_anonymous_cannot_start_a_proposal(client, call):
    response = client.post(reverse("proposals:create", args=[call.year]))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
    assert call.proposals.count() == 0


# --- Old links: a page that says why, not a dead end (#15) -------------------------------------------------


def test_an_old_editor_link_to_a_withdrawn_proposal_opens_its_page_saying_why(client, submitted, pi):
    proposal, _letter, _version = submitted
    domain.proposal_withdraw(proposal_id=proposal.pk, user=pi, now=timezone.now())
    client.force_login(pi)
    response = client.get(reverse("proposals:edit", args=[proposal.pk]), follow=True)
    assert response.redirect_chain == [(reverse("proposals:detail", args=[proposal.pk]), 302)]
    assert [str(m) for m in response.context["messages"]] == ["This proposal is withdrawn and can no longer be changed."]


def test_another_pi_following_the_same_link_learns_nothing(client, submitted, other_pi):
    proposal, _letter, _version = submitted
    client.force_login(other_pi)
    assert client.get(reverse("proposals:edit", args=[proposal.pk])).status_code == 404
