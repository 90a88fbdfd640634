"""A reviewer declares a conflict of interest after accepting (issue #15): from the review and the proposal
pages, with a required explanation; the assignment is withdrawn, the review stops counting, the panel's
officers are mailed in their language; an old link then explains why the review no longer opens."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from iea import formats
from iea.audit.models import AuditEntry
from reviews.domain.conflicts import conflict_declare
from reviews.domain.evaluation import counted_reviews
from reviews.domain.scoring import review_open
from reviews.models import AssignmentState, Conflict, Decision, Review, ReviewState
from tests.factories import UserFactory, activate_totp

from .factories import AssignmentFactory, ReviewerFactory
from .test_reviewer_views import fill_and_submit

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2027, 11, 3, 14, 5, tzinfo=dt.UTC)


def url(name, assignment):
    return reverse(f"reviewer:{name}", kwargs={"pk": assignment.pk})


@pytest.fixture
def assignment():
    assignment = AssignmentFactory(reviewer=ReviewerFactory(user=UserFactory(full_name="Rita Reviewer",
                                                                             email="rita@example.org")))
    assignment.panel.officers.add(UserFactory(email="olga@cnrs.example.fr", full_name="Olga Officer", language="en"),
                                  UserFactory(email="odile@cnrs.example.fr", full_name="Odile Officière", language="fr"))
    return assignment


def declare(assignment, reason="I co-authored a paper with the PI last year.", user=None):
    return conflict_declare(proposal_id=assignment.proposal_id, reviewer=assignment.reviewer,
                            user=user or assignment.reviewer.user, reason=reason, now=NOW)


# --- The domain ---------------------------------------------------------------------------------------------


def test_after_accepting_the_draft_stops_and_the_officers_are_told_in_their_language(
        assignment, django_capture_on_commit_callbacks, mailoutbox):
    review_open(assignment_id=assignment.pk, user=assignment.reviewer.user, now=NOW)
    with django_capture_on_commit_callbacks(execute=True):
        conflict = declare(assignment)
    assignment.refresh_from_db()
    assert (assignment.state, assignment.responded_at) == (AssignmentState.WITHDRAWN, NOW)
    assert (conflict.source, conflict.cause, conflict.detail, conflict.created_by) == (
        "declared", "declared", "I co-authored a paper with the PI last year.", assignment.reviewer.user)
    entry = AuditEntry.objects.get(action="review.conflict")
    assert (entry.actor, entry.data["source"], entry.data["assignments_withdrawn"]) == (
        assignment.reviewer.user, "declared", 1)

    by_recipient = {message.to[0]: message for message in mailoutbox}
    assert sorted(by_recipient) == ["odile@cnrs.example.fr", "olga@cnrs.example.fr"]
    reference = assignment.proposal.reference
    english, french = by_recipient["olga@cnrs.example.fr"], by_recipient["odile@cnrs.example.fr"]
    assert english.subject.startswith(f"Conflict of interest declared: {reference}, by Rita Reviewer")
    for expected in ["Rita Reviewer (rita@example.org) declared a conflict of interest with", reference,
                     "I co-authored a paper with the PI last year.",
                     "They had accepted the review: their draft no longer counts and they no longer see the proposal.",
                     reverse("panel:table", kwargs={"panel_id": assignment.panel_id})]:
        assert expected in english.body, expected
    assert french.subject.startswith(f"Conflit d'intérêts déclaré\N{NO-BREAK SPACE}: {reference}, par Rita Reviewer")
    assert "Rita Reviewer (rita@example.org) a déclaré un conflit d'intérêts avec" in french.body
    assert "I co-authored a paper with the PI last year." in french.body


def test_a_submitted_review_stops_counting(assignment, django_capture_on_commit_callbacks, mailoutbox):
    review = fill_and_submit(assignment)
    assert list(counted_reviews().values_list("pk", flat=True)) == [review.pk]
    with django_capture_on_commit_callbacks(execute=True):
        declare(assignment)
    assert list(counted_reviews()) == []
    assert Review.objects.get(pk=review.pk).state == ReviewState.SUBMITTED  # kept for the record, not counted
    english = next(message for message in mailoutbox if message.to == ["olga@cnrs.example.fr"])
    assert "Their review was already submitted: it no longer counts." in english.body


def test_an_explanation_is_required_and_nothing_changes_without_it(assignment, mailoutbox):
    with pytest.raises(ValidationError) as refused:
        declare(assignment, reason="  ")
    assert refused.value.messages == ["Explain your conflict of interest, so the officer can find another reviewer."]
    assignment.refresh_from_db()
    assert (assignment.state, Conflict.objects.count(), AuditEntry.objects.filter(action="review.conflict").count()) == (
        AssignmentState.ACCEPTED, 0, 0)


def test_declaring_twice_records_and_mails_once(assignment, django_capture_on_commit_callbacks, mailoutbox):
    with django_capture_on_commit_callbacks(execute=True):
        first = declare(assignment)
        second = declare(assignment, reason="Again.")
    assert first == second
    assert (Conflict.objects.count(), len(mailoutbox)) == (1, 2)


def test_refused_once_the_proposal_is_decided(assignment):
    Decision.objects.create(proposal=assignment.proposal, outcome="rejected", decided_at=NOW,
                            decided_by=UserFactory(is_staff=True))
    with pytest.raises(ValidationError) as refused:
        declare(assignment)
    assert refused.value.code == "decided"
    assert Conflict.objects.count() == 0


def test_only_the_reviewer_declares(assignment):
    with pytest.raises(ValidationError):
        declare(assignment, user=UserFactory())
    assert Conflict.objects.count() == 0


# --- The pages ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("page", ["review", "proposal"])
def test_the_review_and_proposal_pages_offer_it(client, assignment, page):
    client.force_login(assignment.reviewer.user)
    html = client.get(url(page, assignment)).content.decode()
    assert f'action="{url("declare_conflict", assignment)}"' in html
    assert f'name="conflict-page" value="{page}"' in html
    assert "Declare a conflict of interest" in html


def test_the_submitted_review_page_offers_it_too(client, assignment):
    fill_and_submit(assignment)
    client.force_login(assignment.reviewer.user)
    assert f'action="{url("declare_conflict", assignment)}"' in client.get(url("review", assignment)).content.decode()


def test_without_an_explanation_the_review_page_comes_back_with_the_draft(client, assignment):
    client.force_login(assignment.reviewer.user)
    review = review_open(assignment_id=assignment.pk, user=assignment.reviewer.user, now=NOW)
    Review.objects.filter(pk=review.pk).update(comment_for_pi="Half-written comment.")
    response = client.post(url("declare_conflict", assignment), {"conflict-reason": "", "conflict-page": "review"})
    assert response.status_code == 400
    assert response.templates[0].name == "reviews/reviewer/review.html"
    html = response.content.decode()
    assert "No conflict declared: explain your conflict of interest." in html
    assert "Explain your conflict of interest, so the officer can find another reviewer." in html
    assert "Half-written comment." in html
    assignment.refresh_from_db()
    assert (assignment.state, Conflict.objects.count()) == (AssignmentState.ACCEPTED, 0)


def test_without_an_explanation_the_proposal_page_comes_back(client, assignment):
    client.force_login(assignment.reviewer.user)
    response = client.post(url("declare_conflict", assignment), {"conflict-reason": "", "conflict-page": "proposal"})
    assert (response.status_code, response.templates[0].name) == (400, "reviews/reviewer/proposal.html")


def test_from_the_review_page_then_the_old_link_explains(client, assignment):
    client.force_login(assignment.reviewer.user)
    response = client.post(url("declare_conflict", assignment),
                           {"conflict-reason": "My former student.", "conflict-page": "review"})
    assert response["Location"] == reverse("reviewer:assignments")
    conflict = Conflict.objects.get()
    for page in ["review", "proposal", "invitation", "letter"]:
        response = client.get(url(page, assignment))
        assert response.status_code == 410, page
        html = response.content.decode()
        assert (f"You declared a conflict of interest with this proposal on {formats.datetime(conflict.created_at)}. "
                "It was withdrawn from you, and your review no longer counts.") in html
        assert f'href="{reverse("reviewer:assignments")}"' in html
        assert "My former student." not in html


@pytest.mark.parametrize("who", ["another_reviewer", "officer", "pi", "staff"])
def test_nobody_else_declares_or_learns_anything(client, assignment, who):
    users = {
        "another_reviewer": lambda: ReviewerFactory(institute=assignment.reviewer.institute).user,
        "officer": lambda: assignment.panel.officers.first(),
        "pi": lambda: assignment.proposal.pi,
        "staff": lambda: UserFactory(is_staff=True),
    }
    user = users[who]()
    if who != "another_reviewer":  # reviewers get TOTP from their factory
        activate_totp(user)
    client.force_login(user)
    response = client.post(url("declare_conflict", assignment), {"conflict-reason": "Not mine to declare."})
    assert response.status_code == 404
    assignment.refresh_from_db()
    assert (assignment.state, Conflict.objects.count()) == (AssignmentState.ACCEPTED, 0)
    # Nor does anyone else learn why someone's assignment closed.
    declare(assignment)
    assert client.get(url("review", assignment)).status_code == 404


def test_anonymous_is_sent_to_sign_in(client, assignment):
    response = client.post(url("declare_conflict", assignment), {"conflict-reason": "x"})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
    assert Conflict.objects.count() == 0


@pytest.mark.parametrize(("state", "active", "says"), [
    (AssignmentState.WITHDRAWN, True, "This assignment was withdrawn on {when}."),
    (AssignmentState.ACCEPTED, False, "You are no longer in the pool of reviewers of"),
])
def test_the_explained_page_says_why(client, assignment, state, active, says):
    type(assignment).objects.filter(pk=assignment.pk).update(state=state, responded_at=NOW)
    type(assignment.reviewer).objects.filter(pk=assignment.reviewer_id).update(active=active)
    client.force_login(assignment.reviewer.user)
    response = client.get(url("review", assignment))
    assert response.status_code == 410
    assert says.format(when=formats.datetime(NOW)) in response.content.decode()


def test_the_explained_page_in_french(client, assignment):
    type(assignment).objects.filter(pk=assignment.pk).update(state=AssignmentState.DECLINED, responded_at=NOW)
    client.force_login(assignment.reviewer.user)
    response = client.get(url("invitation", assignment), HTTP_ACCEPT_LANGUAGE="fr")
    html = response.content.decode()
    assert "Cette évaluation ne vous est plus ouverte" in html
    assert "Vous avez décliné cette invitation le " in html
    assert "Mes évaluations" in html


def test_the_explained_page_after_the_decision_was_mailed(client, assignment):
    """Sending the decisions closes the assignments still waiting (decisions_announce): the old link says so."""
    type(assignment).objects.filter(pk=assignment.pk).update(state=AssignmentState.CLOSED)
    Decision.objects.create(proposal=assignment.proposal, outcome="rejected", decided_at=NOW,
                            decided_by=UserFactory(is_staff=True), notified_at=NOW)
    client.force_login(assignment.reviewer.user)
    response = client.get(url("review", assignment))
    assert response.status_code == 410
    assert (f"The directorate's decision on this proposal was sent on {formats.datetime(NOW)}: your review is "
            "no longer needed.") in response.content.decode()
