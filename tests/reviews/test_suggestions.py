"""A reviewer who declines suggests a colleague; the officer adds them to the pool in one click, or dismisses
the suggestion (issue #20)."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from iea.audit.models import AuditEntry
from reviews.domain.assignment import assignment_respond
from reviews.domain.suggestions import suggestion_accept, suggestion_dismiss
from reviews.models import Assignment, AssignmentState, Reviewer, ReviewerSuggestion
from tests.factories import UserFactory, activate_totp

from .factories import AssignmentFactory, ReviewerFactory

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2030, 11, 4, 9, 0, tzinfo=dt.UTC)
COLLEAGUE = {"name": "Ada Lovelace", "email": "Ada@Lab.example.org", "reason": "She works on exactly this."}


@pytest.fixture
def invited():
    assignment = AssignmentFactory(state=AssignmentState.INVITED)
    officer = UserFactory(language="en")
    activate_totp(officer)
    assignment.panel.officers.add(officer)
    assignment.officer = officer
    return assignment


def decline(assignment, suggestion=None):
    return assignment_respond(assignment_id=assignment.pk, user=assignment.reviewer.user, accept=False,
                              reason="Too busy.", now=NOW, suggestion=suggestion)


def test_the_suggestion_is_saved_with_the_decline_and_audited(invited):
    decline(invited, COLLEAGUE)
    suggestion = ReviewerSuggestion.objects.get()
    assert (suggestion.assignment_id, suggestion.panel_id, suggestion.name, suggestion.email, suggestion.reason,
            suggestion.created_at, suggestion.handled_at) == (
        invited.pk, invited.panel_id, "Ada Lovelace", "ada@lab.example.org", "She works on exactly this.", NOW, None)
    assert list(AuditEntry.objects.filter(action__in=["review.decline", "review.suggest"]).order_by("pk")
                .values_list("action", flat=True)) == ["review.decline", "review.suggest"]


@pytest.mark.parametrize(("suggestion", "code"), [
    ({"name": "Ada Lovelace", "email": ""}, "incomplete"),
    ({"name": "", "email": "ada@lab.example.org"}, "incomplete"),
    ({"name": "Ada", "email": "not-an-address"}, "email"),
    ({"name": "Me", "email": "SELF"}, "self"),
])
def test_a_bad_suggestion_refuses_the_decline_and_saves_nothing(invited, suggestion, code):
    if suggestion["email"] == "SELF":
        suggestion = {**suggestion, "email": invited.reviewer.user.email.upper()}
    with pytest.raises(ValidationError) as refused:
        decline(invited, suggestion)
    assert refused.value.code == code
    assert Assignment.objects.get(pk=invited.pk).state == AssignmentState.INVITED
    assert ReviewerSuggestion.objects.count() == 0


def test_accepting_adds_the_colleague_to_the_pool(invited, rf, mailoutbox, django_capture_on_commit_callbacks):
    decline(invited, COLLEAGUE)
    suggestion = ReviewerSuggestion.objects.get()
    request = rf.get("/panels/")
    request.user = invited.officer
    with django_capture_on_commit_callbacks(execute=True):
        result = suggestion_accept(suggestion_id=suggestion.pk, user=invited.officer, now=NOW, request=request)
    assert [message.to for message in mailoutbox] == [["ada@lab.example.org"]]  # to choose a password
    assert (result.already_in_pool, result.user_created) == (False, True)
    reviewer = Reviewer.objects.get(user__email="ada@lab.example.org")
    assert (reviewer.institute_id, reviewer.active, reviewer.user.full_name) == (
        invited.panel.institute_id, True, "Ada Lovelace")
    suggestion.refresh_from_db()
    assert (suggestion.added_reviewer_id, suggestion.handled_at, suggestion.handled_by_id) == (
        reviewer.pk, NOW, invited.officer.pk)
    assert AuditEntry.objects.filter(action="panel.suggestion_accept").count() == 1
    with pytest.raises(ValidationError) as refused:  # handled once
        suggestion_accept(suggestion_id=suggestion.pk, user=invited.officer, now=NOW, request=request)
    assert refused.value.code == "handled"


def test_someone_already_in_the_pool_is_not_added_twice(invited):
    existing = ReviewerFactory(institute=invited.panel.institute, user=UserFactory(email="ada@lab.example.org"))
    decline(invited, COLLEAGUE)
    suggestion = ReviewerSuggestion.objects.get()
    result = suggestion_accept(suggestion_id=suggestion.pk, user=invited.officer, now=NOW)
    assert (result.already_in_pool, result.reviewer.pk) == (True, existing.pk)
    assert Reviewer.objects.filter(user__email="ada@lab.example.org").count() == 1
    suggestion.refresh_from_db()
    assert (suggestion.added_reviewer_id, suggestion.handled_at) == (existing.pk, NOW)


def test_only_the_panels_officers_handle_suggestions(invited):
    decline(invited, COLLEAGUE)
    suggestion = ReviewerSuggestion.objects.get()
    for action in (suggestion_accept, suggestion_dismiss):
        with pytest.raises(ValidationError) as refused:
            action(suggestion_id=suggestion.pk, user=invited.reviewer.user, now=NOW)
        assert refused.value.code == "forbidden"
    assert ReviewerSuggestion.objects.get().handled_at is None
    assert not Reviewer.objects.filter(user__email="ada@lab.example.org").exists()


def test_dismissing_keeps_the_suggestion_handled_and_audited(invited):
    decline(invited, COLLEAGUE)
    suggestion = suggestion_dismiss(suggestion_id=ReviewerSuggestion.objects.get().pk, user=invited.officer, now=NOW)
    assert (suggestion.handled_at, suggestion.handled_by_id, suggestion.added_reviewer_id) == (
        NOW, invited.officer.pk, None)
    assert AuditEntry.objects.filter(action="panel.suggestion_dismiss").count() == 1
    assert not Reviewer.objects.filter(user__email="ada@lab.example.org").exists()


# --- The pages --------------------------------------------------------------------------------------------


def test_the_decline_form_takes_the_suggestion(client, invited):
    client.force_login(invited.reviewer.user)
    url = reverse("reviewer:decline", args=[invited.pk])
    response = client.post(url, {"decline-reason": "Too busy.", "decline-suggest_name": "Ada Lovelace"},
                           HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert response.context["decline_form"].errors == {
        "suggest_name": ["To suggest a colleague, give both their name and their e-mail."]}
    assert Assignment.objects.get(pk=invited.pk).state == AssignmentState.INVITED
    response = client.post(url, {"decline-reason": "Too busy.", "decline-suggest_name": "Ada Lovelace",
                                 "decline-suggest_email": "ada@lab.example.org", "decline-suggest_reason": "Expert."})
    assert response.status_code == 302
    assert list(ReviewerSuggestion.objects.values_list("name", "email", "reason")) == [
        ("Ada Lovelace", "ada@lab.example.org", "Expert.")]


def test_the_pool_page_lists_open_suggestions_and_adds_in_one_click(client, invited):
    decline(invited, COLLEAGUE)
    client.force_login(invited.officer)
    page = client.get(reverse("panel:pool", args=[invited.panel_id]), HTTP_ACCEPT_LANGUAGE="en")
    [suggestion] = page.context["suggestions"]
    body = page.content.decode()
    assert "Ada Lovelace" in body and "She works on exactly this." in body
    response = client.post(reverse("panel:suggestion_accept", args=[invited.panel_id, suggestion.pk]))
    assert response.status_code == 302
    assert Reviewer.objects.filter(user__email="ada@lab.example.org", institute=invited.panel.institute).exists()
    assert list(client.get(reverse("panel:pool", args=[invited.panel_id])).context["suggestions"]) == []


def test_the_pool_page_queries_do_not_grow_with_the_suggestions(client, invited, queries):
    client.force_login(invited.officer)
    panel = invited.panel

    def grow(n):
        for _ in range(n):
            assignment = AssignmentFactory(proposal=invited.proposal, panel=panel, state=AssignmentState.DECLINED,
                                           reviewer=ReviewerFactory(institute=panel.institute))
            ReviewerSuggestion.objects.create(assignment=assignment, panel=panel, name="X", email=f"x{assignment.pk}@a.org",
                                              reason="Why not.", created_at=NOW)

    # +2 the reviewers' maximums and coming absences (#20 solver).
    assert queries.at_sizes(grow, lambda: client.get(reverse("panel:pool", args=[panel.pk]))) == (9, 9)
