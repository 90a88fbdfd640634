"""A team member's ORCID iD (optional) on the proposal editor: written one way, its check digit verified, shown in
the team; co-author detection matches reviewers' publications on it (reviews.domain)."""

import html

import pytest
from django.urls import reverse
from django.utils import timezone

from proposals import domain
from proposals.models import TeamMember

pytestmark = pytest.mark.django_db


def test_the_team_form_takes_an_orcid_and_writes_it_one_way(client, draft, pi):
    client.force_login(pi)
    client.post(reverse("proposals:team_add", args=[draft.pk]),
                {"side": "cnrs", "name": "Hélène Lefèvre", "orcid": "https://orcid.org/0000000218250097"})
    assert list(TeamMember.objects.filter(proposal=draft, name="Hélène Lefèvre").values_list("orcid", flat=True)) == [
        "0000-0002-1825-0097"]
    page = client.get(reverse("proposals:edit", args=[draft.pk]))
    assert "ORCID 0000-0002-1825-0097" in page.content.decode()


def test_a_wrong_orcid_is_refused_and_the_member_not_added(client, draft, pi):
    client.force_login(pi)
    before = TeamMember.objects.filter(proposal=draft).count()
    response = client.post(reverse("proposals:team_add", args=[draft.pk]),
                           {"side": "cnrs", "name": "Typo Person", "orcid": "0000-0002-1825-0098"},
                           HTTP_ACCEPT_LANGUAGE="fr")
    assert response.status_code == 400
    assert "son dernier caractère ne correspond pas aux autres" in html.unescape(response.content.decode())
    assert 'value="Typo Person"' in response.content.decode()
    assert TeamMember.objects.filter(proposal=draft).count() == before


def test_the_domain_normalises_too(draft, pi):
    member = domain.team_member_add(proposal_id=draft.pk, user=pi, now=timezone.now(), side="partner",
                                    name="A Partner", orcid="0000 0001 5109 3700")
    assert member.orcid == "0000-0001-5109-3700"


def test_the_pi_summary_pdf_still_renders_with_an_orcid(client, draft, pi):
    domain.team_member_add(proposal_id=draft.pk, user=pi, now=timezone.now(), side="cnrs", name="With Orcid",
                           orcid="0000-0002-1825-0097")
    client.force_login(pi)
    assert client.get(reverse("proposals:detail", args=[draft.pk])).status_code == 200
