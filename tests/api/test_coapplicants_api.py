"""The proposals API follows the co-applicants' rules (#21), as the pages do: an accepted co-applicant lists,
reads and changes the draft; a reader only reads; only the PI submits, withdraws and invites; a revoked one
reaches nothing. (A focused file rather than a "co-applicant" column in test_access_matrix.py: its world
builds one role per run, and this role is one row of CoApplicant on the PI's draft.)"""

import pytest
from django.utils import timezone
from rest_framework import throttling

from proposals.models import CoApplicant, CoApplicantRole, ProposalState
from tests.factories import ProposalFactory, UserFactory

from .conftest import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_throttle(monkeypatch):
    monkeypatch.setattr(throttling.SimpleRateThrottle, "THROTTLE_RATES", {"user": None, "anon": None})


def _joined(role=CoApplicantRole.EDITOR):
    draft = ProposalFactory(complete=True)
    colleague = UserFactory()
    coapplicant = CoApplicant.objects.create(proposal=draft, email=colleague.email, user=colleague, role=role,
                                             invited_at=timezone.now(), invited_by=draft.pi,
                                             accepted_at=timezone.now())
    return draft, colleague, coapplicant


def test_a_co_applicant_lists_reads_and_changes_the_draft():
    draft, colleague, _coapplicant = _joined()
    client = client_for(colleague)
    url = f"/api/v1/proposals/{draft.reference}/"

    assert [p["reference"] for p in client.get("/api/v1/proposals/").json()["results"]] == [draft.reference]
    assert client.get(url).status_code == 200
    response = client.patch(url, {"lock_version": draft.lock_version, "abstract": "Résumé à quatre mains"}, format="json")

    assert response.status_code == 200
    draft.refresh_from_db()
    assert (draft.abstract, draft.last_saved_by) == ("Résumé à quatre mains", colleague)


@pytest.mark.parametrize("action", ["submit", "withdraw", "invite"])
def test_only_the_pi_submits_withdraws_and_invites(action):
    draft, colleague, _coapplicant = _joined()
    body = {"email": "ana@usp.example.br", "language": "en"} if action == "invite" else {}

    response = client_for(colleague).post(f"/api/v1/proposals/{draft.reference}/{action}/", body, format="json")

    assert response.status_code in (400, 403), response.content
    assert "Only the PI can" in response.content.decode()
    draft.refresh_from_db()
    assert (draft.state, draft.invitations.count()) == (ProposalState.DRAFT, 0)


def test_a_reader_reads_and_does_not_change():
    draft, reader, _coapplicant = _joined(role=CoApplicantRole.READER)
    client = client_for(reader)
    url = f"/api/v1/proposals/{draft.reference}/"

    assert client.get(url).status_code == 200
    assert client.patch(url, {"lock_version": draft.lock_version, "abstract": "x"}, format="json").status_code == 403


def test_a_revoked_co_applicant_reaches_nothing():
    draft, colleague, coapplicant = _joined()
    coapplicant.revoked_at = timezone.now()
    coapplicant.save(update_fields=["revoked_at"])
    client = client_for(colleague)

    assert client.get("/api/v1/proposals/").json()["results"] == []
    assert client.get(f"/api/v1/proposals/{draft.reference}/").status_code == 404
