"""The evaluation summary the PI and the partner receive with the decision (``reviews.domain.evaluation``):
it never names a reviewer nor shows a confidential comment, numbers the reviewers by review, and speaks
the reader's language."""

from decimal import Decimal

import pytest
from django.utils import timezone

from funding.domain.decisions import decision_set
from proposals.models import Proposal
from reviews.domain.evaluation import evaluation_summary_context, evaluation_summary_pdf
from reviews.models import Conflict, ReviewState
from tests.factories import InstituteFactory
from tests.pdfs import pdf_text

from .staff_factories import closed_call, make_review, make_reviewer, ranked_proposal, recommend

pytestmark = pytest.mark.django_db


@pytest.fixture
def past_call():
    return closed_call()


def decide(proposal, user, outcome, amount=None):
    return decision_set(proposal_id=proposal.pk, user=user, outcome=outcome,
                        amount=None if amount is None else Decimal(amount), now=timezone.now())


def test_the_summary_never_names_a_reviewer_nor_shows_a_confidential_comment(past_call, staff):
    institute = InstituteFactory()
    proposal = ranked_proposal(past_call, institute=institute, reviews=0, title="Tidal flats under pressure")
    recommend_consensus = "The panel values the field campaign and the partner's data."
    proposal.panel_recommendation.consensus = recommend_consensus
    proposal.panel_recommendation.save()
    people = [
        ("Zebulon Quibbleworth", "zebulon.quibbleworth@secret-lab.example", "Institut Quibble",
         [5, 4.5, 4, 3, 5, 4], "Clear objectives and a strong partner.", "QUIBBLE-CONFIDENTIAL conflict rumours"),
        ("Xanthippe Vorobyeva", "xanthippe@hidden.example", "Vorobyeva University",
         [3, 3.5, 4, 2, 5, 3], "The budget for missions should be justified.", "VOROBYEVA-CONFIDENTIAL weak team"),
        ("Ignatius Draft", "ignatius@draft.example", "Draft College",
         [0, 0, 0, 0, 0, 0], "DRAFT-COMMENT never submitted", ""),
        ("Conflicted Colleague", "conflicted@partner.example", "Partner Institute",
         [1, 1, 1, 1, 1, 1], "CONFLICTED-COMMENT must not count", ""),
    ]
    made = []
    for n, (name, email, institution, scores, comment, confidential) in enumerate(people):
        reviewer = make_reviewer(institute, name=name, email=email, institution=institution)
        made.append(make_review(
            proposal, reviewer, scores=scores, comment_for_pi=comment, confidential=confidential,
            state=ReviewState.DRAFT if n == 2 else ReviewState.SUBMITTED, criterion_comment=f"CRITERION-NOTE-{n}",
        ))
    Conflict.objects.create(proposal=proposal, reviewer=made[3].reviewer, source="declared", cause="declared",
                            created_at=timezone.now())
    decide(proposal, staff, "selected", "12000")

    text = pdf_text(evaluation_summary_pdf(proposal=proposal, language="en"))

    for name, email, institution, _scores, _comment, confidential in people:
        for secret in (*name.split(), email, email.split("@")[1], institution):
            assert secret not in text
        if confidential:
            assert confidential not in text
    for leaked in ("CONFIDENTIAL", "DRAFT-COMMENT", "CONFLICTED-COMMENT", "CRITERION-NOTE"):
        assert leaked not in text
    assert "Reviewer 1 Clear objectives and a strong partner." in text
    assert "Reviewer 2 The budget for missions should be justified." in text
    assert "Reviewer 3" not in text
    assert recommend_consensus in text
    for expected in (proposal.reference, "Tidal flats under pressure", past_call.title, "Selected", "€12,000.00",
                     "Scientific quality of the project 4.0 / 5", "Value of the international collaboration 4.0 / 5",
                     "Participation of early-career researchers 2.5 / 5", "Financial justification 3.5 / 5",
                     "Mean of 2 reviews."):
        assert expected in text


def test_the_summary_numbers_reviewers_by_review_not_by_name(past_call):
    institute = InstituteFactory()
    proposal = ranked_proposal(past_call, institute=institute, reviews=0)
    later = make_reviewer(institute, name="Aaron First-Alphabetically", email="a@example.org")
    earlier = make_reviewer(institute, name="Zoe Last", email="z@example.org")
    make_review(proposal, earlier, scores=[3] * 6, comment_for_pi="Written first.")
    make_review(proposal, later, scores=[4] * 6, comment_for_pi="Written second.")
    context = evaluation_summary_context(proposal=proposal)
    assert [(c["label"], c["text"]) for c in context["comments"]] == [
        ("Reviewer 1", "Written first."), ("Reviewer 2", "Written second.")]
    assert [c.mean for c in context["criteria"]] == [Decimal("3.5")] * 6


def test_the_summary_labels_follow_the_language(past_call):
    proposal = ranked_proposal(past_call, reviews=1)
    recommend_text = proposal.panel_recommendation
    assert recommend_text is not None
    french = pdf_text(evaluation_summary_pdf(proposal=proposal, language="fr"))
    english = pdf_text(evaluation_summary_pdf(proposal=proposal, language="en"))
    assert "Qualité scientifique du projet" in french
    assert "Qualité scientifique du projet" not in english
    assert "Scientific quality of the project" in english


def test_a_recommendation_without_reviews_still_renders(past_call):
    proposal = ranked_proposal(past_call, reviews=0)
    proposal.panel_recommendation.delete()
    recommend(Proposal.objects.get(pk=proposal.pk), rank=1)
    text = pdf_text(evaluation_summary_pdf(proposal=Proposal.objects.get(pk=proposal.pk), language="en"))
    assert "The reviewers left no comment for the applicants." in text
    assert "The panel wrote no consensus summary." in text
