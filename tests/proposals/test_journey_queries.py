"""The queries of the PI's journey at the deadline (benchmarks/surge.py): editor, autosave, letter, submit,
the proposal's page. Pinned, and the same for a team of one and of three (the lists each page shows), so
that a query added to any step, or one per member, fails here rather than in the surge."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from proposals.models import ProposalState, TeamMember, TeamSide
from tests.factories import ProposalFactory, UserFactory
from tests.pdfs import pdf_upload

from .test_editor import form_data

pytestmark = pytest.mark.django_db

# Each request reads the session, the user and their roles first (iea.roles); a write's transaction counts
# its BEGIN and COMMIT. The same on SQLite and PostgreSQL.
# #21: the autosave writes its audit entry (who changed which fields); the proposal's page reads its requests for
# information, its co-applicants, its history and its unread messages, once each.
EXPECTED = {"editor": 10, "autosave": 17, "letter": 16, "submit": 18, "result": 13}


def journey(client, proposal) -> dict[str, int]:
    """The five requests of a PI's journey, as the surge sends them; the queries of each."""
    counts, pk = {}, proposal.pk
    htmx = {"HTTP_HX_REQUEST": "true"}
    requests = {
        "editor": lambda: client.get(reverse("proposals:edit", args=[pk])),
        "autosave": lambda: client.post(reverse("proposals:autosave", args=[pk]),
                                        form_data(proposal, title="Coastal memories", partner_email="new@usp.example.br"),
                                        **htmx),
        "letter": lambda: client.post(reverse("proposals:letter_upload", args=[pk]), {"file": pdf_upload()}, **htmx),
        "submit": lambda: client.post(reverse("proposals:submit", args=[pk])),
        "result": lambda: client.get(reverse("proposals:detail", args=[pk])),
    }
    for step, send in requests.items():
        with CaptureQueriesContext(connection) as queries:
            response = send()
        assert response.status_code == (302 if step == "submit" else 200), step
        counts[step] = len(queries)
        assert not [q["sql"] for q in queries if re.match(r"\s*DECLARE", q["sql"])], f"{step}: a server-side cursor"
    proposal.refresh_from_db()
    assert proposal.state == ProposalState.SUBMITTED
    return counts


def a_draft(members: int):
    pi = UserFactory()
    proposal = ProposalFactory(pi=pi, complete=True)
    for index in range(members):
        TeamMember.objects.create(proposal=proposal, side=TeamSide.CNRS if index % 2 else TeamSide.PARTNER,
                                  name=f"Member {index}")
    return proposal


def test_each_step_reads_the_same_queries_for_a_team_of_one_and_of_three(client):
    counts = []
    for members in (2, 2, 6):  # both sides: one each, then three each; the first warms the content types
        proposal = a_draft(members)
        client.force_login(proposal.pi)
        client.get(reverse("proposals:edit", args=[proposal.pk]))  # the session's first request stamps it
        counts.append(journey(client, proposal))

    assert counts[1] == counts[2] == EXPECTED, str(counts)
