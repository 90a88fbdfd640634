"""The review in the API (reviews/api.py): who reaches what, against one explicit table, then each endpoint's
happy path and refusals, the audit entries the domain writes, and the query counts of every list.

The rules are the web's (``reviews.rules``; tests/reviews/test_access_matrix.py): a reviewer reaches only
their own open, non-conflicted assignment, and the whole proposal and the review only once accepted; an
officer reaches only the panels they run, staff every panel; anything else is a 404. Reviewers, officers
and staff need two-factor authentication (403); a read-only token may not write (403).
"""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.utils import timezone

from iea.audit.models import AuditEntry
from proposals.models import Proposal, ProposalState
from reviews.domain.panel import ranks_set, recommendation_set
from reviews.domain.scoring import review_open, review_save_draft, review_submit
from reviews.models import Assignment, AssignmentState, Conflict, Panel, Review, ReviewState
from tests.factories import (
    CallFactory,
    InstituteFactory,
    StaffFactory,
    UnitFactory,
    UserFactory,
    activate_totp,
)
from tests.reviews.factories import AssignmentFactory, PanelFactory, ReviewerFactory, eligible_proposal

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_throttle_memory():
    # The throttle counts requests per user id in the cache; ids repeat from one test to the next.
    from django.core.cache import cache

    cache.clear()


def conflict(assignment):
    """A conflict recorded without withdrawing the assignment: the rules' check alone must close access."""
    return Conflict.objects.create(proposal=assignment.proposal, reviewer=assignment.reviewer, source="officer",
                                   cause="officer", created_at=timezone.now())


def fill_and_submit(assignment, *, score=Decimal(4)):
    user, now = assignment.reviewer.user, timezone.now()
    review = review_open(assignment_id=assignment.pk, user=user, now=now)
    review_save_draft(
        review_id=review.pk, user=user, lock_version=review.lock_version, now=now,
        data={"comment_for_pi": "Good.", "confidential_comment": "", "recommendation": "fund"},
        scores={s.criterion_id: (score, "") for s in review.scores.all()},
    )
    return review_submit(review_id=review.pk, user=user, now=now)


def error(response) -> dict:
    return response.json()["error"]


# ---------------------------------------------------------------------------------------------------------------
# Who reaches what
# ---------------------------------------------------------------------------------------------------------------


@dataclass
class World:
    users: dict
    assigned: Assignment
    invited: Assignment
    review: Review
    panel: Panel
    other_panel: Panel
    conflicted_review: Review


@pytest.fixture
def world():
    now = timezone.now()
    institute, other_institute = InstituteFactory(), InstituteFactory()
    proposal = eligible_proposal(unit=UnitFactory(main_institute=institute))
    Proposal.objects.filter(pk=proposal.pk).update(state=ProposalState.IN_REVIEW)
    panel = PanelFactory(call=proposal.call, institute=institute)
    other_panel = PanelFactory(call=proposal.call, institute=other_institute)
    officer, other_officer, manager = UserFactory(), UserFactory(), UserFactory()
    for user, its_panel in ((officer, panel), (other_officer, other_panel)):
        activate_totp(user)
        its_panel.officers.add(user)
    proposal.unit.managers.add(manager)

    def assignment(state=AssignmentState.ACCEPTED, **reviewer):
        return AssignmentFactory(proposal=proposal, panel=panel, state=state,
                                 reviewer=ReviewerFactory(institute=institute, **reviewer))

    assigned, invited, conflicted = assignment(), assignment(AssignmentState.INVITED), assignment()
    no_mfa = assignment(mfa=False)
    review = review_open(assignment_id=assigned.pk, user=assigned.reviewer.user, now=now)
    conflicted_review = review_open(assignment_id=conflicted.pk, user=conflicted.reviewer.user, now=now)
    conflict(conflicted)
    users = {
        "anonymous": None, "pi": proposal.pi, "assigned": assigned.reviewer.user, "invited": invited.reviewer.user,
        "conflicted": conflicted.reviewer.user, "no_mfa": no_mfa.reviewer.user, "officer": officer,
        "other_officer": other_officer, "staff": StaffFactory(), "manager": manager,
    }
    return World(users=users, assigned=assigned, invited=invited, review=review, panel=panel,
                 other_panel=other_panel, conflicted_review=conflicted_review)


def request_for(world, key):
    """(method, path, body) of one row of TABLE."""
    assigned, invited, review, panel = world.assigned.pk, world.invited.pk, world.review.pk, world.panel.pk
    return {
        "assignments": ("get", "/api/v1/assignments/", None),
        "assignment": ("get", f"/api/v1/assignments/{assigned}/", None),
        "invitation": ("get", f"/api/v1/assignments/{invited}/", None),
        "accept": ("post", f"/api/v1/assignments/{invited}/accept/", None),
        "decline": ("post", f"/api/v1/assignments/{invited}/decline/", {"reason": "On leave."}),
        "conflict": ("post", f"/api/v1/assignments/{assigned}/conflict/", {"reason": "A co-author."}),
        "open": ("post", f"/api/v1/assignments/{assigned}/review/", None),
        "reviews": ("get", "/api/v1/reviews/", None),
        "review": ("get", f"/api/v1/reviews/{review}/", None),
        "conflicted_review": ("get", f"/api/v1/reviews/{world.conflicted_review.pk}/", None),
        "save": ("patch", f"/api/v1/reviews/{review}/", {"lock_version": 1, "comment_for_pi": "Changed."}),
        "submit": ("post", f"/api/v1/reviews/{review}/submit/", None),
        "panels": ("get", "/api/v1/panels/", None),
        "panel": ("get", f"/api/v1/panels/{panel}/", None),
        "results": ("get", f"/api/v1/panels/{panel}/results/", None),
    }[key]


ROLES = ("anonymous", "pi", "assigned", "invited", "conflicted", "no_mfa", "officer", "other_officer", "staff",
         "manager")
# The status each role gets, in the order of ROLES. The assigned reviewer's submit is a 400: the review is
# not complete (the refusal is the domain's, after access was granted).
#                        anon pi   assign invit confl nomfa offic o_off staff manag
TABLE = {
    "assignments":       [401, 200, 200,   200,  200,  403,  200,  200,  200,  200],
    "assignment":        [401, 404, 200,   404,  404,  403,  404,  404,  404,  404],
    "invitation":        [401, 404, 404,   200,  404,  403,  404,  404,  404,  404],
    "accept":            [401, 404, 404,   200,  404,  403,  404,  404,  404,  404],
    "decline":           [401, 404, 404,   200,  404,  403,  404,  404,  404,  404],
    "conflict":          [401, 404, 204,   404,  404,  403,  404,  404,  404,  404],
    "open":              [401, 404, 200,   404,  404,  403,  404,  404,  404,  404],
    "reviews":           [401, 200, 200,   200,  200,  403,  200,  200,  200,  200],
    "review":            [401, 404, 200,   404,  404,  403,  404,  404,  404,  404],
    "conflicted_review": [401, 404, 404,   404,  404,  403,  404,  404,  404,  404],
    "save":              [401, 404, 200,   404,  404,  403,  404,  404,  404,  404],
    "submit":            [401, 404, 400,   404,  404,  403,  404,  404,  404,  404],
    "panels":            [401, 200, 200,   200,  200,  403,  200,  200,  200,  200],
    "panel":             [401, 404, 404,   404,  404,  403,  200,  404,  200,  404],
    "results":           [401, 404, 404,   404,  404,  403,  200,  404,  200,  404],
}


def snapshot():
    """What a refused request must not change."""
    return (
        sorted(Assignment.objects.values_list("pk", "state")),
        sorted(Review.objects.values_list("pk", "state", "lock_version", "comment_for_pi")),
        Conflict.objects.count(),
    )


@pytest.mark.parametrize("key", TABLE)
@pytest.mark.parametrize("role", ROLES)
def test_access(world, api_client, role, key):
    client = api_client(world.users[role])
    method, path, body = request_for(world, key)
    before = snapshot()
    response = getattr(client, method)(path, body, format="json")
    expected = TABLE[key][ROLES.index(role)]
    assert response.status_code == expected, f"{role} {method.upper()} {path}: {response.content[:300]}"
    if expected >= 400:
        assert set(error(response)) >= {"status", "code", "message"}
        if expected != 400:
            assert snapshot() == before, f"{role} {method.upper()} {path} was refused but changed something"


@pytest.mark.parametrize("role", ROLES[1:5] + ROLES[6:])
def test_each_list_shows_only_what_the_role_may_see(world, api_client, role):
    client = api_client(world.users[role])

    def ids(path):
        return [row["id"] for row in client.get(path).json()["results"]]

    assert ids("/api/v1/assignments/") == {"assigned": [world.assigned.pk], "invited": [world.invited.pk]}.get(role, [])
    assert ids("/api/v1/reviews/") == ([world.review.pk] if role == "assigned" else [])
    panels = {"officer": [world.panel.pk], "other_officer": [world.other_panel.pk],
              "staff": list(Panel.objects.order_by("institute__code").values_list("pk", flat=True))}
    assert ids("/api/v1/panels/") == panels.get(role, [])


@pytest.mark.parametrize("key", ["accept", "decline", "conflict", "open", "save", "submit"])
def test_a_read_only_token_may_not_write(world, api_client, key):
    method, path, body = request_for(world, key)
    owner = "invited" if key in ("accept", "decline") else "assigned"
    before = snapshot()
    response = getattr(api_client(world.users[owner], scopes="read"), method)(path, body, format="json")
    assert response.status_code == 403
    assert error(response)["code"] == "permission_denied"
    assert snapshot() == before


def test_a_reviewer_without_two_factor_authentication_is_told_to_set_it_up(world, api_client):
    response = api_client(world.users["no_mfa"]).get("/api/v1/assignments/")
    assert response.status_code == 403
    assert "two-factor authentication" in error(response)["message"]


def test_a_non_numeric_or_huge_id_is_a_404(world, api_client):
    client = api_client(world.users["assigned"])
    for path in ["/api/v1/assignments/abc/", "/api/v1/reviews/99999999999999999999999/", "/api/v1/panels/-1/"]:
        assert client.get(path).status_code == 404, path


# ---------------------------------------------------------------------------------------------------------------
# Assignments: what the reviewer reads, and their answers
# ---------------------------------------------------------------------------------------------------------------


@pytest.fixture
def invited():
    return AssignmentFactory(state=AssignmentState.INVITED)


@pytest.fixture
def assignment():
    return AssignmentFactory()


HIDDEN_FROM_THE_INVITED = ["Two missions per year and a workshop.", "No ethical issue.", "ana@usp.example.br",
                           "3000.00", "sha256"]


def test_the_list_gives_each_assignment_with_its_proposal_and_review(api_client, assignment):
    reviewer = assignment.reviewer
    later = AssignmentFactory(reviewer=reviewer, state=AssignmentState.INVITED,
                              proposal=eligible_proposal(unit__main_institute=reviewer.institute),
                              due_at=timezone.now() + dt.timedelta(days=40))
    AssignmentFactory(reviewer=reviewer, state=AssignmentState.DECLINED,
                      proposal=eligible_proposal(unit__main_institute=reviewer.institute))
    Assignment.objects.filter(pk=assignment.pk).update(due_at=timezone.now() - dt.timedelta(days=1))
    review = review_open(assignment_id=assignment.pk, user=reviewer.user, now=timezone.now())

    body = api_client(reviewer.user).get("/api/v1/assignments/").json()
    assert body["count"] == 2
    first, second = body["results"]
    proposal = assignment.proposal
    assert first == {
        "id": assignment.pk, "state": "accepted", "due_at": first["due_at"], "overdue": True, "responded_at": None,
        "proposal": {"reference": proposal.reference, "call": proposal.call.year,
                     "title": "Coastal erosion under changing storms", "acronym": "COAST"},
        "institute": {"id": reviewer.institute.pk, "code": reviewer.institute.code,
                      "usage_name": reviewer.institute.usage_name, "legal_name": reviewer.institute.legal_name},
        "review": {"id": review.pk, "state": "draft"},
    }
    assert (second["id"], second["state"], second["overdue"], second["review"]) == (later.pk, "invited", False, None)


def test_the_list_shows_the_submitted_title_not_the_live_draft(api_client, assignment):
    Proposal.objects.filter(pk=assignment.proposal_id).update(title="Changed after the last submission")
    row = api_client(assignment.reviewer.user).get("/api/v1/assignments/").json()["results"][0]
    assert row["proposal"]["title"] == "Coastal erosion under changing storms"


def test_an_invited_reviewer_reads_only_what_the_conflict_check_needs(api_client, invited):
    response = api_client(invited.reviewer.user).get(f"/api/v1/assignments/{invited.pk}/")
    assert response.status_code == 200
    body = response.json()
    proposal = invited.proposal
    assert body["invitation"] == {
        "title": "Coastal erosion under changing storms", "acronym": "COAST", "keywords": "erosion, coasts, storms",
        "abstract": "We study coastal erosion with partners abroad.", "pi": proposal.pi.get_full_name(),
        "unit": proposal.unit.code, "unit_name": proposal.unit.name,
        "partner": {"name": "Ana Souza", "institution": "Universidade de São Paulo", "country": "BR"},
        "cnrs_team": [{"name": "Marie Curie", "position": "", "institution": ""}],
        "partner_team": [{"name": "Ana Souza", "position": "", "institution": ""}],
    }
    assert body["submission"] is None
    for hidden in HIDDEN_FROM_THE_INVITED:
        assert hidden not in response.content.decode(), hidden


def test_an_accepted_reviewer_reads_the_whole_submitted_version(api_client, assignment):
    Proposal.objects.filter(pk=assignment.proposal_id).update(activities="Secret new plan")
    body = api_client(assignment.reviewer.user).get(f"/api/v1/assignments/{assignment.pk}/").json()
    submission = body["submission"]
    assert (submission["version"], submission["activities"], submission["ethics_statement"]) == (
        1, "Two missions per year and a workshop.", "No ethical issue.")
    assert submission["budget_total"] == "12000.00"
    assert {"year": 1, "category": "mobility", "amount": "3000.00"} in submission["budget"]
    assert [(m["name"], m["side"], m["early_career"]) for m in submission["team"]] == [
        ("Marie Curie", "cnrs", False), ("Ana Souza", "partner", True)]
    assert submission["letter"]["cofunding"] is False and len(submission["letter"]["sha256"]) == 64
    assert "ana@usp.example.br" not in str(body)


def test_accepting_opens_the_whole_proposal_and_is_audited(api_client, invited):
    client = api_client(invited.reviewer.user)
    response = client.post(f"/api/v1/assignments/{invited.pk}/accept/")
    assert response.status_code == 200
    body = response.json()
    assert (body["state"], body["submission"]["version"], body["review"]) == ("accepted", 1, None)
    entry = AuditEntry.objects.get(action="review.accept")
    assert (entry.actor, entry.object_id, entry.from_state, entry.to_state) == (
        invited.reviewer.user, str(invited.pk), "invited", "accepted")

    again = client.post(f"/api/v1/assignments/{invited.pk}/accept/")
    assert again.status_code == 400
    assert error(again) == {"status": 400, "code": "answered",
                            "message": "This invitation was already answered (accepted)."}


def test_declining_needs_a_reason_then_the_assignment_leaves_the_list(api_client, invited):
    client = api_client(invited.reviewer.user)
    for body in [{}, {"reason": "   "}]:
        response = client.post(f"/api/v1/assignments/{invited.pk}/decline/", body, format="json")
        assert response.status_code == 400
        assert list(error(response)["fields"]) == ["reason"]
    invited.refresh_from_db()
    assert invited.state == AssignmentState.INVITED

    response = client.post(f"/api/v1/assignments/{invited.pk}/decline/", {"reason": " On leave until June. "},
                           format="json")
    assert response.status_code == 200
    assert (response.json()["id"], response.json()["state"]) == (invited.pk, "declined")
    invited.refresh_from_db()
    assert (invited.state, invited.decline_reason) == (AssignmentState.DECLINED, "On leave until June.")
    assert AuditEntry.objects.get(action="review.decline").reason == "On leave until June."
    assert client.get("/api/v1/assignments/").json()["count"] == 0
    assert client.get(f"/api/v1/assignments/{invited.pk}/").status_code == 404
    assert client.post(f"/api/v1/assignments/{invited.pk}/accept/").status_code == 404


def test_declaring_a_conflict_ends_access_at_once(api_client, assignment):
    client = api_client(assignment.reviewer.user)
    review = review_open(assignment_id=assignment.pk, user=assignment.reviewer.user, now=timezone.now())
    response = client.post(f"/api/v1/assignments/{assignment.pk}/conflict/", {"reason": "My former student."},
                           format="json")
    assert (response.status_code, response.content) == (204, b"")
    assert list(Conflict.objects.values_list("source", "detail")) == [("declared", "My former student.")]
    assignment.refresh_from_db()
    assert assignment.state == AssignmentState.WITHDRAWN
    assert AuditEntry.objects.filter(action="review.conflict").count() == 1
    assert [client.get(path).status_code for path in [f"/api/v1/assignments/{assignment.pk}/",
                                                      f"/api/v1/reviews/{review.pk}/"]] == [404, 404]
    assert client.get("/api/v1/reviews/").json()["count"] == 0


def test_a_conflict_recorded_mid_review_closes_the_review(api_client, assignment):
    client = api_client(assignment.reviewer.user)
    review = review_open(assignment_id=assignment.pk, user=assignment.reviewer.user, now=timezone.now())
    conflict(assignment)
    assert client.patch(f"/api/v1/reviews/{review.pk}/", {"lock_version": 1, "comment_for_pi": "x"},
                        format="json").status_code == 404
    assert client.post(f"/api/v1/reviews/{review.pk}/submit/").status_code == 404
    assert client.get("/api/v1/assignments/").json()["results"] == []
    review.refresh_from_db()
    assert review.comment_for_pi == ""


# ---------------------------------------------------------------------------------------------------------------
# Reviews: opening, saving the draft, submitting
# ---------------------------------------------------------------------------------------------------------------


def test_the_review_opens_once_the_invitation_is_accepted(api_client, invited):
    client = api_client(invited.reviewer.user)
    refused = client.post(f"/api/v1/assignments/{invited.pk}/review/")
    assert refused.status_code == 400
    assert error(refused) == {"status": 400, "code": "not_accepted",
                              "message": "Accept the invitation before writing the review."}
    assert Review.objects.count() == 0

    client.post(f"/api/v1/assignments/{invited.pk}/accept/")
    opened = client.post(f"/api/v1/assignments/{invited.pk}/review/")
    assert opened.status_code == 201
    body = opened.json()
    assert (body["state"], body["lock_version"], body["assignment"]) == ("draft", 1, invited.pk)
    assert [s["criterion"]["position"] for s in body["scores"]] == [1, 2, 3, 4, 5, 6]
    assert body["scores"][0] == {"criterion": {
        "id": body["scores"][0]["criterion"]["id"], "position": 1, "label": "Scientific quality of the project",
        "guidance": body["scores"][0]["criterion"]["guidance"], "scale_max": "5.0", "step": "0.5", "weight": "1.00"},
        "score": None, "comment": ""}
    assert len(body["missing"]) == 8
    assert AuditEntry.objects.filter(action="review.open").count() == 1

    again = client.post(f"/api/v1/assignments/{invited.pk}/review/")
    assert (again.status_code, again.json()["id"]) == (200, body["id"])
    assert Review.objects.count() == 1


@pytest.fixture
def draft(assignment):
    return review_open(assignment_id=assignment.pk, user=assignment.reviewer.user, now=timezone.now())


def criteria_ids(review):
    return list(review.scores.order_by("criterion__position").values_list("criterion_id", flat=True))


def test_saving_the_draft_changes_only_what_is_given(api_client, assignment, draft):
    client = api_client(assignment.reviewer.user)
    first, second = criteria_ids(draft)[:2]
    response = client.patch(f"/api/v1/reviews/{draft.pk}/", {
        "lock_version": 1, "comment_for_pi": "Well argued.", "recommendation": "reserve",
        "scores": [{"criterion": first, "score": "4.5", "comment": "Clear aims."}, {"criterion": second, "score": 3}],
    }, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["lock_version"], body["comment_for_pi"], body["recommendation"], body["state"]) == (
        2, "Well argued.", "reserve", "draft")
    assert [(s["score"], s["comment"]) for s in body["scores"][:3]] == [("4.5", "Clear aims."), ("3.0", ""), (None, "")]
    assert body["missing"][0] == "Score “Scientific quality and complementarity of the teams”."

    # A comment alone keeps the score; absent fields keep their value.
    response = client.patch(f"/api/v1/reviews/{draft.pk}/", {
        "lock_version": 2, "scores": [{"criterion": first, "comment": "Very clear aims."}]}, format="json")
    body = response.json()
    assert (body["lock_version"], body["comment_for_pi"], body["scores"][0]["score"],
            body["scores"][0]["comment"]) == (3, "Well argued.", "4.5", "Very clear aims.")
    # A null score clears it.
    body = client.patch(f"/api/v1/reviews/{draft.pk}/", {
        "lock_version": 3, "scores": [{"criterion": first, "score": None}]}, format="json").json()
    assert (body["scores"][0]["score"], body["scores"][0]["comment"]) == (None, "Very clear aims.")
    assert client.get(f"/api/v1/reviews/{draft.pk}/").json() == body


def test_a_stale_lock_version_is_a_409_and_nothing_is_written(api_client, assignment, draft):
    client = api_client(assignment.reviewer.user)
    first = criteria_ids(draft)[0]
    assert client.patch(f"/api/v1/reviews/{draft.pk}/", {"lock_version": 1, "comment_for_pi": "From tab A"},
                        format="json").status_code == 200
    response = client.patch(f"/api/v1/reviews/{draft.pk}/", {
        "lock_version": 1, "comment_for_pi": "From tab B", "scores": [{"criterion": first, "score": "2"}]},
        format="json")
    assert response.status_code == 409
    body = error(response)
    assert (body["status"], body["code"]) == (409, "conflict")
    assert body["message"].startswith("The review was saved elsewhere at ")
    assert "it is now version 2" in body["message"]
    assert body["fields"] == {
        "comment_for_pi": ["Your value differs from the one saved meanwhile."],
        "scores": ["“Scientific quality of the project”: your score or comment differs from the one saved meanwhile."],
    }
    draft.refresh_from_db()
    assert (draft.comment_for_pi, draft.lock_version, draft.scores.get(criterion_id=first).score) == (
        "From tab A", 2, None)


@pytest.mark.parametrize(("body", "fields"), [
    ({"scores": [{"criterion": "FIRST", "score": "4.2"}]},
     {"scores": ["“Scientific quality of the project”: the score must be a multiple of 0.5."]}),
    ({"scores": [{"criterion": "LAST", "score": "7"}]},
     {"scores": ["“Financial justification”: the score must be between 0 and 5."]}),
    ({"scores": [{"criterion": "FIRST", "score": "-1"}]},
     {"scores": ["“Scientific quality of the project”: the score must be between 0 and 5."]}),
    ({"scores": [{"criterion": 0, "score": "4"}]},
     {"scores": ["A score was given for a criterion this call does not have."]}),
    ({"scores": [{"criterion": "FIRST", "score": "4"}, {"criterion": "FIRST", "score": "3"}]},
     {"scores": ["“Scientific quality of the project” is given twice."]}),
    ({"scores": [{"criterion": "FIRST", "score": "four"}]}, {"scores.0.score": ["A valid number is required."]}),
    ({"scores": {"criterion": 1}}, {"scores": ['Expected a list of items but got type "dict".']}),
    ({"recommendation": "maybe"}, {"recommendation": ['"maybe" is not a valid choice.']}),
])
def test_invalid_data_is_a_400_naming_the_fields(api_client, assignment, draft, body, fields):
    ids = criteria_ids(draft)
    for item in body.get("scores", []) if isinstance(body.get("scores"), list) else []:
        item["criterion"] = {"FIRST": ids[0], "LAST": ids[-1]}.get(item["criterion"], item["criterion"])
    response = api_client(assignment.reviewer.user).patch(f"/api/v1/reviews/{draft.pk}/", {"lock_version": 1, **body},
                                                          format="json")
    assert response.status_code == 400
    assert error(response)["fields"] == fields
    draft.refresh_from_db()
    assert (draft.lock_version, list(draft.scores.exclude(score=None))) == (1, [])


def test_the_lock_version_is_required(api_client, assignment, draft):
    response = api_client(assignment.reviewer.user).patch(f"/api/v1/reviews/{draft.pk}/", {"comment_for_pi": "x"},
                                                          format="json")
    assert response.status_code == 400
    assert error(response)["fields"] == {"lock_version": ["This field is required."]}


def test_submitting_an_incomplete_review_lists_what_is_missing(api_client, assignment, draft):
    client = api_client(assignment.reviewer.user)
    client.patch(f"/api/v1/reviews/{draft.pk}/", {"lock_version": 1, "comment_for_pi": "Fine."}, format="json")
    response = client.post(f"/api/v1/reviews/{draft.pk}/submit/")
    assert response.status_code == 400
    assert error(response) == {"status": 400, "code": "incomplete", "message": " ".join([
        "Score “Scientific quality of the project”.", "Score “Value of the international collaboration”.",
        "Score “Scientific quality and complementarity of the teams”.",
        "Score “Participation of early-career researchers”.", "Score “Ethics”.", "Score “Financial justification”.",
        "Choose a recommendation.",
    ])}
    draft.refresh_from_db()
    assert draft.state == ReviewState.DRAFT
    assert not AuditEntry.objects.filter(action="review.submit").exists()


def test_submitting_locks_the_review_and_is_audited(api_client, assignment, draft):
    client = api_client(assignment.reviewer.user)
    client.patch(f"/api/v1/reviews/{draft.pk}/", {
        "lock_version": 1, "comment_for_pi": "Fine.", "recommendation": "fund",
        "scores": [{"criterion": cid, "score": "3.5"} for cid in criteria_ids(draft)]}, format="json")
    response = client.post(f"/api/v1/reviews/{draft.pk}/submit/")
    assert response.status_code == 200
    body = response.json()
    assert (body["state"], body["missing"], body["lock_version"]) == ("submitted", [], 3)
    assert body["submitted_at"] is not None
    entry = AuditEntry.objects.get(action="review.submit")
    assert (entry.actor, entry.object_id, entry.to_state) == (assignment.reviewer.user, str(draft.pk), "submitted")

    # Submitting again changes nothing; saving is refused with the domain's reason.
    assert client.post(f"/api/v1/reviews/{draft.pk}/submit/").json() == body
    refused = client.patch(f"/api/v1/reviews/{draft.pk}/", {"lock_version": 3, "comment_for_pi": "Changed"},
                           format="json")
    assert refused.status_code == 400
    assert error(refused)["code"] == "submitted"
    assert "can no longer be changed" in error(refused)["message"]
    assert AuditEntry.objects.filter(action="review.submit").count() == 1


def test_a_late_review_is_still_accepted_as_on_the_web(api_client, assignment, draft):
    """The domain sets no deadline on reviews (the reminders chase late reviewers): past due, the list says
    "overdue" and saving and submitting still work."""
    Assignment.objects.filter(pk=assignment.pk).update(due_at=timezone.now() - dt.timedelta(days=3))
    client = api_client(assignment.reviewer.user)
    assert client.get(f"/api/v1/assignments/{assignment.pk}/").json()["overdue"] is True
    response = client.patch(f"/api/v1/reviews/{draft.pk}/", {
        "lock_version": 1, "comment_for_pi": "Late but fine.", "recommendation": "reject",
        "scores": [{"criterion": cid, "score": "1"} for cid in criteria_ids(draft)]}, format="json")
    assert response.status_code == 200
    assert client.post(f"/api/v1/reviews/{draft.pk}/submit/").json()["state"] == "submitted"


def test_another_reviewers_review_is_a_404(api_client, assignment, draft):
    colleague = AssignmentFactory(proposal=assignment.proposal, panel=assignment.panel,
                                  reviewer=ReviewerFactory(institute=assignment.reviewer.institute))
    client = api_client(colleague.reviewer.user)
    assert client.get(f"/api/v1/reviews/{draft.pk}/").status_code == 404
    assert client.patch(f"/api/v1/reviews/{draft.pk}/", {"lock_version": 1}, format="json").status_code == 404
    assert client.post(f"/api/v1/reviews/{draft.pk}/submit/").status_code == 404
    assert client.get("/api/v1/reviews/").json()["results"] == []


def test_errors_are_in_the_requests_language(api_client, invited):
    response = api_client(invited.reviewer.user, language="fr").post(f"/api/v1/assignments/{invited.pk}/review/")
    assert response.status_code == 400
    assert error(response)["message"] != "Accept the invitation before writing the review."


# ---------------------------------------------------------------------------------------------------------------
# Panels: the officer's table
# ---------------------------------------------------------------------------------------------------------------


def officer_of(panel):
    officer = UserFactory()
    activate_totp(officer)
    panel.officers.add(officer)
    return officer


def panel_with(size: int):
    """A panel with ``size`` proposals in review, each with two submitted reviews (the first with a gap)."""
    institute, call = InstituteFactory(), CallFactory()
    panel = PanelFactory(call=call, institute=institute)
    reviewers = [ReviewerFactory(institute=institute) for _ in range(2)]
    proposals = []
    for index in range(size):
        proposal = eligible_proposal(call=call, unit=UnitFactory(main_institute=institute))
        Proposal.objects.filter(pk=proposal.pk).update(state=ProposalState.IN_REVIEW)
        for reviewer, score in zip(reviewers, (Decimal(5), Decimal(2) if index == 0 else Decimal(4)), strict=True):
            fill_and_submit(AssignmentFactory(proposal=proposal, panel=panel, reviewer=reviewer), score=score)
        proposals.append(proposal)
    return panel, proposals


def test_the_panel_and_its_results(api_client):
    panel, (first, second) = panel_with(2)
    officer = officer_of(panel)
    now = timezone.now()
    recommendation_set(proposal_id=second.pk, user=officer, consensus="Strong.", recommendation="fund",
                       proposed_amount="12000", now=now)
    ranks_set(panel_id=panel.pk, user=officer, ordered_proposal_ids=[second.pk], now=now)
    client = api_client(officer)

    assert client.get(f"/api/v1/panels/{panel.pk}/").json() == {
        "id": panel.pk, "call": panel.call.year, "institute": {
            "id": panel.institute.pk, "code": panel.institute.code, "usage_name": panel.institute.usage_name,
            "legal_name": panel.institute.legal_name},
        "reviews_per_proposal": 2, "review_due_at": None}

    body = client.get(f"/api/v1/panels/{panel.pk}/results/").json()
    assert body["count"] == 2
    top, disputed = body["results"]  # highest weighted total first, as the web table
    assert top == {
        "reference": second.reference, "title": "Coastal erosion under changing storms", "acronym": "COAST",
        "state": "ranked", "reviews_done": 2, "reviews_expected": 2, "incomplete": False,
        "criterion_means": [{"criterion": cid, "position": position, "mean": "4.50"}
                            for position, cid in enumerate(panel.call.criteria.order_by("position")
                                                           .values_list("pk", flat=True), start=1)],
        "weighted_total": "4.50", "median": "4.50", "spread": "1.00", "disagreement": False,
        "calibrated": top["calibrated"], "priority": {"matched": False, "country": "", "keywords": []},
        "recommendation": "fund", "proposed_amount": "12000.00", "rank": 1, "threshold_misses": [],
    }
    assert (disputed["reference"], disputed["weighted_total"], disputed["spread"], disputed["disagreement"],
            disputed["recommendation"], disputed["proposed_amount"], disputed["rank"]) == (
        first.reference, "3.50", "3.00", True, "", None, None)

    assert [row["reference"] for row in client.get(f"/api/v1/panels/{panel.pk}/results/",
                                                    {"sort": "reference"}).json()["results"]] == sorted(
        [first.reference, second.reference])
    assert [row["reference"] for row in client.get(f"/api/v1/panels/{panel.pk}/results/",
                                                    {"disagreement": "true"}).json()["results"]] == [first.reference]
    assert [row["reference"] for row in client.get(f"/api/v1/panels/{panel.pk}/results/",
                                                    {"recommendation": "none"}).json()["results"]] == [first.reference]
    page = client.get(f"/api/v1/panels/{panel.pk}/results/", {"page_size": 1, "page": 2}).json()
    assert (page["count"], [row["reference"] for row in page["results"]]) == (2, [first.reference])


def test_the_results_say_which_threshold_a_proposal_misses(api_client):
    panel, (first, second) = panel_with(2)
    panel.call.overall_threshold = Decimal(4)
    panel.call.save()
    client = api_client(officer_of(panel))
    body = client.get(f"/api/v1/panels/{panel.pk}/results/", {"sort": "reference"}).json()
    assert {row["reference"]: row["threshold_misses"] for row in body["results"]} == {
        first.reference: [{"criterion": None, "mean": "3.50", "threshold": "4.0"}], second.reference: []}
    under = client.get(f"/api/v1/panels/{panel.pk}/results/", {"under_threshold": "true"}).json()
    assert [row["reference"] for row in under["results"]] == [first.reference]


def test_a_bad_sort_or_filter_is_a_400(api_client):
    panel, _proposals = panel_with(1)
    client = api_client(officer_of(panel))
    response = client.get(f"/api/v1/panels/{panel.pk}/results/", {"sort": "-salary"})
    assert response.status_code == 400
    assert error(response)["fields"] == {"sort": ["The table cannot be sorted by “-salary”."]}
    response = client.get(f"/api/v1/panels/{panel.pk}/results/", {"recommendation": "maybe"})
    assert list(error(response)["fields"]) == ["recommendation"]


def test_an_officer_never_sees_a_proposal_they_are_in_conflict_with(api_client):
    panel, (first, second) = panel_with(2)
    officer = officer_of(panel)
    reviewer = ReviewerFactory(user=officer, institute=panel.institute, mfa=False)  # the officer has TOTP already
    Conflict.objects.create(proposal=first, reviewer=reviewer,
                            source="declared", cause="declared", created_at=timezone.now())
    body = api_client(officer).get(f"/api/v1/panels/{panel.pk}/results/").json()
    assert [row["reference"] for row in body["results"]] == [second.reference]


def test_an_officer_of_another_institute_sees_nothing_and_staff_see_all(api_client):
    panel, _proposals = panel_with(1)
    other_panel = PanelFactory(call=panel.call, institute=InstituteFactory())
    other = api_client(officer_of(other_panel))
    assert [p["id"] for p in other.get("/api/v1/panels/").json()["results"]] == [other_panel.pk]
    assert other.get(f"/api/v1/panels/{panel.pk}/").status_code == 404
    assert other.get(f"/api/v1/panels/{panel.pk}/results/").status_code == 404
    staff = api_client(StaffFactory())
    assert {p["id"] for p in staff.get("/api/v1/panels/").json()["results"]} == {panel.pk, other_panel.pk}
    assert staff.get(f"/api/v1/panels/{panel.pk}/results/").json()["count"] == 1


def test_an_officer_without_two_factor_authentication_gets_403(api_client):
    panel, _proposals = panel_with(1)
    officer = UserFactory()
    panel.officers.add(officer)
    assert api_client(officer).get(f"/api/v1/panels/{panel.pk}/results/").status_code == 403


# ---------------------------------------------------------------------------------------------------------------
# Query counts: every list takes as many queries for 2 rows as for 8
# ---------------------------------------------------------------------------------------------------------------


def reviewer_lists(api_client, queries, size: int) -> tuple[int, int]:
    reviewer = ReviewerFactory()
    call = CallFactory()
    for index in range(size):
        proposal = eligible_proposal(call=call, unit=UnitFactory(main_institute=reviewer.institute))
        state = AssignmentState.INVITED if index % 4 == 0 else AssignmentState.ACCEPTED
        assignment = AssignmentFactory(proposal=proposal, reviewer=reviewer, state=state)
        if state == AssignmentState.ACCEPTED:
            review_open(assignment_id=assignment.pk, user=reviewer.user, now=timezone.now())
    client = api_client(reviewer.user)
    assert client.get("/api/v1/assignments/").json()["count"] == size
    assert client.get("/api/v1/reviews/").json()["count"] == Review.objects.filter(reviewer=reviewer).count()
    return queries(lambda: client.get("/api/v1/assignments/")), queries(lambda: client.get("/api/v1/reviews/"))


def test_the_reviewers_lists_take_the_same_queries_for_2_and_8_rows(api_client, queries):
    assert (reviewer_lists(api_client, queries, 2), reviewer_lists(api_client, queries, 8)) == ((4, 5), (4, 5))


def officer_lists(api_client, queries, size: int) -> tuple[int, int]:
    panel, _proposals = panel_with(size)
    officer = officer_of(panel)
    for _ in range(size - 1):
        PanelFactory(call=panel.call, institute=InstituteFactory()).officers.add(officer)
    client = api_client(officer)
    paths = ["/api/v1/panels/", f"/api/v1/panels/{panel.pk}/results/"]
    assert [client.get(path).json()["count"] for path in paths] == [size, size]
    return tuple(queries(lambda path=path: client.get(path)) for path in paths)


def test_the_officers_lists_take_the_same_queries_for_2_and_8_rows(api_client, queries):
    assert (officer_lists(api_client, queries, 2), officer_lists(api_client, queries, 8)) == ((4, 8), (4, 8))
