"""Beside the editor of a draft restarted from last year (#21): the evaluation the PI was sent about the old
proposal — the decision, the consensus, the mean scores, the reviewers' comments for the applicants — exactly as
the evaluation summary of the decision mail, and nothing the PI did not receive (no reviewer's name, e-mail or
institution, no confidential comment, no criterion note, no review in conflict, no recommendation or rank)."""

import datetime as dt
import html
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from funding.domain.decisions import decision_set
from proposals.domain import proposal_restart
from proposals.models import Proposal, ProposalState
from reviews.domain.evaluation import evaluation_summary_context, previous_evaluation
from reviews.domain.screening import proposal_screen
from reviews.models import Conflict, Decision, ReviewState
from tests.factories import CallFactory, InstituteFactory, ProposalFactory, UserFactory

from .staff_factories import closed_call, make_review, make_reviewer, ranked_proposal, submitted_proposal

pytestmark = pytest.mark.django_db

CONSENSUS = "Le panel apprécie la campagne de terrain « littorale » ; le budget des missions doit être justifié."
PEOPLE = [
    ("Zébulon Quibbleworth", "zebulon@secret-lab.example", "Institut Quibble", [5, 4.5, 4, 3, 5, 4],
     "Objectifs clairs, partenaire solide.", "QUIBBLE-CONFIDENTIAL rumeurs"),
    ("Xanthippe Vorobyeva", "xanthippe@hidden.example", "Vorobyeva University", [3, 3.5, 4, 2, 5, 3],
     "The budget for missions should be justified.\nSecond paragraph.", "VOROBYEVA-CONFIDENTIAL weak team"),
    ("Ignatius Draft", "ignatius@draft.example", "Draft College", [0, 0, 0, 0, 0, 0], "DRAFT-COMMENT", ""),
    ("Conflicted Colleague", "conflicted@partner.example", "Partner Institute", [1, 1, 1, 1, 1, 1],
     "CONFLICTED-COMMENT", ""),
]


def _panel_text(page: str) -> str:
    match = re.search(r'<details class="card previous-evaluation".*?</details>', page, re.S)
    assert match, "no previous evaluation beside the editor"
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", match.group(0))).split())


@pytest.fixture
def rejected(staff):
    call = closed_call()
    institute = InstituteFactory()
    proposal = ranked_proposal(call, institute=institute, reviews=0, recommendation="reject", proposed_amount=None,
                               title="Tidal flats under pressure")
    proposal.panel_recommendation.consensus = CONSENSUS
    proposal.panel_recommendation.save()
    made = []
    for n, (name, email, institution, scores, comment, confidential) in enumerate(PEOPLE):
        reviewer = make_reviewer(institute, name=name, email=email, institution=institution)
        made.append(make_review(proposal, reviewer, scores=scores, comment_for_pi=comment, confidential=confidential,
                                state=ReviewState.DRAFT if n == 2 else ReviewState.SUBMITTED,
                                criterion_comment=f"CRITERION-NOTE-{n}"))
    Conflict.objects.create(proposal=proposal, reviewer=made[3].reviewer, source="declared", cause="declared",
                            created_at=timezone.now())
    decision_set(proposal_id=proposal.pk, user=staff, outcome="rejected", amount=None, now=timezone.now())
    Decision.objects.filter(proposal=proposal).update(notified_at=timezone.now())
    return Proposal.objects.select_related("call", "decision").get(pk=proposal.pk)


def _restarted(source):
    new = CallFactory(year=source.call.year + 1)
    return proposal_restart(source_id=source.pk, call_id=new.pk, user=source.pi, now=timezone.now()).proposal


@pytest.mark.parametrize(("language", "expected"), [
    ("en", ["Previous evaluation", "Decision Rejected", "Consensus of the panel", CONSENSUS,
            "Scientific quality of the project 4.0 / 5", "Value of the international collaboration 4.0 / 5",
            "Participation of early-career researchers 2.5 / 5", "Financial justification 3.5 / 5",
            "Mean of 2 reviews.", "Reviewer 1 Objectifs clairs, partenaire solide.",
            "Reviewer 2 The budget for missions should be justified. Second paragraph."]),
    ("fr", ["Évaluation précédente", "Décision Non retenue", "Synthèse du comité", CONSENSUS,
            "Qualité scientifique du projet 4,0 / 5", "Participation de jeunes chercheurs 2,5 / 5",
            "Moyenne de 2 évaluations.", "Expert·e 1 Objectifs clairs, partenaire solide."]),
])
def test_the_editor_shows_what_the_pi_received_and_nothing_else(client, rejected, language, expected):
    proposal = _restarted(rejected)
    client.force_login(rejected.pi)
    page = client.get(reverse("proposals:edit", args=[proposal.pk]), HTTP_ACCEPT_LANGUAGE=language)
    assert page.status_code == 200
    text = _panel_text(page.content.decode())
    for fragment in expected:
        assert fragment in text, (fragment, text)
    for name, email, institution, _scores, _comment, confidential in PEOPLE:
        for secret in (*name.split(), email, email.split("@")[1], institution):
            assert secret not in text
        if confidential:
            assert confidential not in text
    for leaked in ("CONFIDENTIAL", "DRAFT-COMMENT", "CONFLICTED-COMMENT", "CRITERION-NOTE", "Reviewer 3", "Expert·e 3",
                   "reject", "Rank", "Rang"):
        assert leaked not in text


def test_the_panel_is_the_summary_of_the_decision_mail(rejected):
    """One source: the selector hands the template the context the PDF of the decision mail is made from."""
    evaluation = previous_evaluation(source=rejected, user=rejected.pi)
    assert evaluation == {"kind": "summary", **evaluation_summary_context(proposal=rejected)}
    assert evaluation["outcome"] == "Rejected"
    assert evaluation["amount"] is None
    assert [c["label"] for c in evaluation["comments"]] == ["Reviewer 1", "Reviewer 2"]


def test_nobody_but_the_pi_reads_it(rejected):
    assert previous_evaluation(source=rejected, user=UserFactory()) == {"kind": "not_yours",
                                                                          "reference": rejected.reference}


def test_an_ineligible_proposal_shows_the_reason_the_screening_mail_gave(client, staff):
    call = closed_call()
    source = submitted_proposal(call, title="Récifs", acronym="RÉCIFS")
    reason = "La lettre de soutien n’est pas signée par le partenaire.\nVoir l’article 4 de l’appel."
    proposal_screen(proposal_id=source.pk, user=staff, eligible=False, reason=reason,
                    now=timezone.now() + dt.timedelta(minutes=1))
    proposal = _restarted(Proposal.objects.get(pk=source.pk))
    client.force_login(source.pi)
    text = _panel_text(client.get(reverse("proposals:edit", args=[proposal.pk])).content.decode())
    assert text == (f"Previous evaluation {source.reference} Your proposal to {call.title} was found ineligible at "
                    "screening, and was not evaluated. Reason: La lettre de soutien n’est pas signée par le "
                    "partenaire. Voir l’article 4 de l’appel.")


@pytest.mark.parametrize(("state", "label"), [(ProposalState.WITHDRAWN, "withdrawn"), (ProposalState.DRAFT, "draft")])
def test_a_withdrawn_or_never_submitted_proposal_has_no_evaluation(client, state, label):
    call = closed_call()
    source = ProposalFactory(call=call, complete=True, state=state)
    proposal = _restarted(source)
    client.force_login(source.pi)
    text = _panel_text(client.get(reverse("proposals:edit", args=[proposal.pk])).content.decode())
    assert text == (f"Previous evaluation {source.reference} Your proposal to {call.title} was not evaluated "
                    f"({label}): there is no evaluation to show.")


def test_a_draft_started_from_scratch_has_no_panel(client):
    proposal = ProposalFactory()
    client.force_login(proposal.pi)
    page = client.get(reverse("proposals:edit", args=[proposal.pk])).content.decode()
    assert "previous-evaluation" not in page and 'id="restarted-from"' not in page


def test_the_amount_of_a_reserve_is_not_shown(rejected):
    Decision.objects.filter(proposal=rejected).update(outcome="reserve")
    Proposal.objects.filter(pk=rejected.pk).update(state="reserve")
    source = Proposal.objects.select_related("call", "decision").get(pk=rejected.pk)
    assert previous_evaluation(source=source, user=source.pi)["outcome"] == "Reserve list"
    assert previous_evaluation(source=source, user=source.pi)["amount"] is None
