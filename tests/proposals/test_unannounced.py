"""A PI learns a ranking or a decision only from its mail: before it goes out, every place the PI reads
their proposal's state (dashboard, proposal page, API, data export) says "in review" — the panel's
ranking and the directorate's decision stay inside until then."""

import datetime as dt
import json
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from proposals.models import Proposal, ProposalState, announced_state_is
from reviews.models import Decision
from tests.api.conftest import client_for
from tests.factories import StaffFactory
from tests.privacy.factories import filed, past_call

pytestmark = pytest.mark.django_db

HIDDEN = [ProposalState.RANKED, ProposalState.SELECTED, ProposalState.RESERVE, ProposalState.REJECTED]


def decided(state: str, *, mailed: bool) -> Proposal:
    call = past_call(closed=timezone.now() - dt.timedelta(days=30))
    proposal = filed(call, state="in_review")
    Proposal.objects.filter(pk=proposal.pk).update(state=state)
    if state != ProposalState.RANKED:
        Decision.objects.create(
            proposal=proposal, outcome=state, amount=Decimal(12000) if state == "selected" else None,
            decided_at=timezone.now(), decided_by=StaffFactory(), notified_at=timezone.now() if mailed else None,
        )
    return Proposal.objects.select_related("decision").get(pk=proposal.pk)


@pytest.mark.parametrize("state", HIDDEN)
def test_before_the_mail_the_pi_reads_in_review_everywhere(client, state):
    proposal = decided(state, mailed=False)
    assert proposal.applicant_state == ProposalState.IN_REVIEW
    client.force_login(proposal.pi)
    for url in (reverse("dashboard"), reverse("proposals:detail", args=[proposal.pk])):
        page = client.get(url).content.decode()
        assert "In review" in page, url
        assert str(ProposalState(state).label) not in page, url
    api = client_for(proposal.pi)
    assert api.get(f"/api/v1/proposals/{proposal.reference}/").json()["state"] == "in_review"
    assert [p["state"] for p in api.get("/api/v1/proposals/").json()["results"]] == ["in_review"]
    assert api.get("/api/v1/proposals/", {"state": state}).json()["results"] == []
    assert len(api.get("/api/v1/proposals/", {"state": "in_review"}).json()["results"]) == 1
    export = json.loads(client.post(reverse("privacy:export")).content)
    assert [(p["state"], p["decision"]) for p in export["proposals"]] == [("in_review", None)]


@pytest.mark.parametrize("state", [ProposalState.SELECTED, ProposalState.RESERVE, ProposalState.REJECTED])
def test_once_mailed_the_pi_reads_the_decision(client, state):
    proposal = decided(state, mailed=True)
    assert proposal.applicant_state == state
    client.force_login(proposal.pi)
    assert str(ProposalState(state).label) in client.get(reverse("dashboard")).content.decode()
    api = client_for(proposal.pi)
    assert api.get(f"/api/v1/proposals/{proposal.reference}/").json()["state"] == state
    assert len(api.get("/api/v1/proposals/", {"state": state}).json()["results"]) == 1
    export = json.loads(client.post(reverse("privacy:export")).content)
    assert export["proposals"][0]["state"] == state
    assert export["proposals"][0]["decision"]["outcome"] == state


def test_staff_read_the_real_state_in_the_api():
    proposal = decided(ProposalState.SELECTED, mailed=False)
    staff = StaffFactory()
    api = client_for(staff)
    assert api.get(f"/api/v1/proposals/{proposal.reference}/").json()["state"] == "selected"
    assert len(api.get("/api/v1/proposals/", {"state": "selected"}).json()["results"]) == 1


@pytest.mark.parametrize("mailed", [False, True])
@pytest.mark.parametrize("state", [*HIDDEN, ProposalState.IN_REVIEW, ProposalState.FUNDED])
def test_the_queryset_form_agrees_with_the_property(state, mailed):
    if state in (ProposalState.IN_REVIEW, ProposalState.FUNDED, ProposalState.RANKED):
        proposal = decided(ProposalState.RANKED, mailed=False)
        Proposal.objects.filter(pk=proposal.pk).update(state=state)
    else:
        proposal = decided(state, mailed=mailed)
    proposal = Proposal.objects.select_related("decision").get(pk=proposal.pk)
    for shown in ProposalState.values:
        found = Proposal.objects.filter(announced_state_is(shown), pk=proposal.pk).exists()
        assert found == (proposal.applicant_state == shown), (state, shown)
