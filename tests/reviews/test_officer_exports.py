"""The officer's workbooks beside the panel table: the panel's proposals with their teams, and its reviews with the
reviewers named (the officer runs the panel); never a proposal of another institute, nor one the officer is in
conflict with; the same queries at any size. Who may download: tests/reviews/test_access_matrix.py."""

import pytest
from django.urls import reverse
from django.utils import timezone

from proposals.models import ProposalState
from reviews.models import Conflict, Reviewer
from tests.backoffice.workbooks import sheet_rows
from tests.factories import InstituteFactory, UserFactory, activate_totp

from .staff_factories import closed_call, make_review, make_reviewer, panel_for, set_state, submitted_proposal

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    call = closed_call(year=2031)
    insu, inee = InstituteFactory(code="INSU"), InstituteFactory(code="INEE")
    ours = set_state(submitted_proposal(call, evaluating_institute=insu), ProposalState.IN_REVIEW)
    conflicted = set_state(submitted_proposal(call, evaluating_institute=insu), ProposalState.IN_REVIEW)
    theirs = set_state(submitted_proposal(call, evaluating_institute=inee), ProposalState.IN_REVIEW)
    officer = UserFactory(email="officer@cnrs.example.fr")
    activate_totp(officer)
    panel = panel_for(call, insu)
    panel.officers.add(officer)
    Conflict.objects.create(proposal=conflicted, reviewer=Reviewer.objects.create(user=officer, institute=insu),
                            source="declared", cause="declared", created_at=timezone.now())
    ada = make_reviewer(insu, name="Ada Lovelace", email="ada@example.org")
    for proposal in (ours, conflicted):
        make_review(proposal, ada, scores=[4] * 6, confidential="Between us.")
    make_review(theirs, make_reviewer(inee, name="Bo", email="bo@example.org"), scores=[3] * 6)
    return {"panel": panel, "officer": officer, "ours": ours, "conflicted": conflicted, "theirs": theirs}


@pytest.fixture
def officer_client(client, world):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    client.force_login(world["officer"])
    return client


def test_the_officer_exports_the_panels_proposals_but_not_their_conflicts(officer_client, world):
    response = officer_client.get(reverse("panel:proposals_export", args=[world["panel"].pk]))
    assert response["Content-Disposition"] == 'attachment; filename="proposals-2031-INSU.xlsx"'
    table = officer_client.get(reverse("panel:table", args=[world["panel"].pk])).context["rows"]
    assert [row["Reference"] for row in sheet_rows(response, "Proposals")] == sorted(
        row.proposal.reference for row in table) == [world["ours"].reference]
    assert {row["Reference"] for row in sheet_rows(response, "Team")} == {world["ours"].reference}


def test_the_officer_exports_the_panels_reviews_with_the_reviewers_named(officer_client, world):
    response = officer_client.get(reverse("panel:reviews_export", args=[world["panel"].pk]))
    assert response["Content-Disposition"] == 'attachment; filename="reviews-2031-INSU.xlsx"'
    rows = sheet_rows(response, "Reviews")
    assert [(row["Reference"], row["Reviewer"], row["Confidential comment"]) for row in rows] == [
        (world["ours"].reference, "Ada Lovelace", "Between us.")]
    assert sheet_rows(response, "Conflicts") == []  # the officer's own conflict is on a proposal left out


def test_the_table_links_both_workbooks(officer_client, world):
    html = officer_client.get(reverse("panel:table", args=[world["panel"].pk])).content.decode()
    for name in ("panel:proposals_export", "panel:reviews_export"):
        assert f'href="{reverse(name, args=[world["panel"].pk])}"' in html


def test_both_workbooks_cost_the_same_queries_at_any_size(officer_client, world, queries):
    panel, insu = world["panel"], world["panel"].institute

    def grow(size):
        for _n in range(size):
            proposal = set_state(submitted_proposal(panel.call, evaluating_institute=insu), ProposalState.IN_REVIEW)
            make_review(proposal, make_reviewer(insu, name="R", email=f"r{proposal.pk}@example.org"), scores=[3] * 6)

    for name, expected in (("panel:proposals_export", 9), ("panel:reviews_export", 9)):
        url = reverse(name, args=[panel.pk])
        assert queries.at_sizes(grow, lambda url=url: officer_client.get(url)) == (expected, expected), name
