"""The officer's panel pages: who gets in, what they show (the conflict rule included), the export, and the
forms that call the domain: pool, assignment, conflict, automatic assignment, recommendation, ranking."""

import datetime as dt
import io
import re

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from iea.audit.models import AuditEntry
from proposals.models import Proposal, ProposalState
from reviews.models import (
    Assignment,
    AssignmentJob,
    AssignmentState,
    Conflict,
    PanelRecommendation,
    Recommendation,
    Review,
    Reviewer,
    ReviewState,
)
from tests.factories import StaffFactory, UnitFactory, UserFactory

from .test_panel import NOW, World

pytestmark = pytest.mark.django_db

MFA_SETUP = "/accounts/2fa/totp/activate/"


@pytest.fixture
def world():
    world = World()
    world.weigh(3, 1)
    world.p1, world.p2, world.p3 = world.proposals(3)
    world.a, world.b = world.reviewer("Alice Ames"), world.reviewer("Bruno Bell")
    world.reviews([(world.p1, world.a, [4, 2]), (world.p1, world.b, [2, 4]), (world.p2, world.a, [5, 5]),
                   (world.p2, world.b, [1, 1])])
    return world


def pages(world):
    panel = world.panel.pk
    return {
        "list": reverse("panel:list"),
        "table": reverse("panel:table", args=[panel]),
        "export": reverse("panel:export", args=[panel]),
        "assignments": reverse("panel:assignments", args=[panel]),
        "pool": reverse("panel:pool", args=[panel]),
        "proposal": reverse("panel:proposal", args=[panel, world.p1.pk]),
    }


def actions(world):
    panel = world.panel.pk
    return {
        "rank": (reverse("panel:rank", args=[panel]), {f"rank-{world.p1.pk}": "1"}),
        "recommend": (reverse("panel:proposal", args=[panel, world.p1.pk]),
                      {"recommendation": "fund", "proposed_amount": "12000", "consensus": "x"}),
        "assign": (reverse("panel:assign", args=[panel]), {"proposal": world.p3.pk, "reviewer": world.a.pk}),
        "conflict": (reverse("panel:conflict", args=[panel]),
                     {"conflict-proposal": world.p3.pk, "conflict-reviewer": world.a.pk, "conflict-reason": "x"}),
        "reviewer_add": (reverse("panel:reviewer_add", args=[panel]), {"email": "intruder@example.org"}),
        "reviewer_deactivate": (reverse("panel:reviewer_deactivate", args=[panel, world.a.pk]), {}),
        "auto_assign": (reverse("panel:auto_assign", args=[panel]), {}),
    }


def state_of_the_panel(world):
    return (
        list(Assignment.objects.order_by("pk").values_list("pk", "state")),
        Conflict.objects.count(), PanelRecommendation.objects.count(), Reviewer.objects.filter(active=True).count(),
        list(Proposal.objects.order_by("pk").values_list("state", flat=True)), AuditEntry.objects.count(),
        AssignmentJob.objects.count(),
    )


# ---------------------------------------------------------------------------------------------------
# Who gets in
# ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("page", ["list", "table", "export", "assignments", "pool", "proposal"])
def test_anonymous_is_sent_to_sign_in(client, world, page):
    response = client.get(pages(world)[page])
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


@pytest.mark.parametrize("page", ["list", "table", "export", "assignments", "pool", "proposal"])
def test_the_panels_officer_and_staff_get_in(client, world, page):
    for user in (world.officer, StaffFactory()):
        client.force_login(user)
        assert client.get(pages(world)[page]).status_code == 200


@pytest.mark.parametrize("who", ["other_officer", "reviewer", "pi"])
@pytest.mark.parametrize("page", ["table", "export", "assignments", "pool", "proposal"])
def test_everyone_else_gets_a_404(client, world, who, page):
    user = {"other_officer": World().officer, "reviewer": world.a.user, "pi": world.pi}[who]
    client.force_login(user)
    assert client.get(pages(world)[page]).status_code == 404


@pytest.mark.parametrize("who", ["other_officer", "reviewer", "pi"])
@pytest.mark.parametrize("action", ["rank", "recommend", "assign", "conflict", "reviewer_add", "reviewer_deactivate",
                                    "auto_assign"])
def test_everyone_else_changes_nothing(client, world, who, action):
    user = {"other_officer": World().officer, "reviewer": world.a.user, "pi": world.pi}[who]
    before = state_of_the_panel(world)
    client.force_login(user)
    url, data = actions(world)[action]
    assert client.post(url, data).status_code == 404
    assert state_of_the_panel(world) == before


def test_the_list_shows_only_ones_own_panels_and_is_closed_to_pis_and_reviewers(client, world):
    other = World()
    client.force_login(other.officer)
    page = client.get(reverse("panel:list"))
    assert page.status_code == 200
    assert list(page.context["panels"]) == [other.panel]
    for user in (world.pi, world.a.user):
        client.force_login(user)
        assert client.get(reverse("panel:list")).status_code == 404


def test_the_list_counts_proposals_and_reviews(client, world):
    world.proposal(state=ProposalState.SUBMITTED)  # not screened yet: not the panel's
    client.force_login(world.officer)
    panel = client.get(reverse("panel:list")).context["panels"][0]
    assert (panel.proposal_count, panel.reviews_done, panel.reviews_expected, panel.open_assignments) == (3, 4, 6, 4)
    # What needs the officer, recomputed over plain objects, with one review overdue.
    from tests.reviews.factories import AssignmentFactory

    covered = {a.proposal_id for a in Assignment.objects.filter(panel=world.panel)}
    AssignmentFactory(proposal=Proposal.objects.filter(pk__in=covered).first(), panel=world.panel,
                      due_at=timezone.now() - dt.timedelta(days=1))
    panel = client.get(reverse("panel:list")).context["panels"][0]
    from reviews.domain.assignment import REVIEWABLE_STATES
    from reviews.rules import OPEN_ASSIGNMENT_STATES

    now = timezone.now()
    mine = [p for p in Proposal.objects.filter(call=panel.call) if p.institute == panel.institute]
    open_ = [a for a in Assignment.objects.filter(panel=panel) if a.state in OPEN_ASSIGNMENT_STATES]
    short = sum(1 for p in mine if p.state in REVIEWABLE_STATES
                and sum(1 for a in open_ if a.proposal_id == p.pk) < panel.reviews_per_proposal)
    submitted = {r.assignment_id for r in Review.objects.filter(state=ReviewState.SUBMITTED)}
    overdue = sum(1 for a in open_ if a.due_at <= now and a.pk not in submitted)
    assert (panel.health.short, panel.health.overdue) == (short, overdue) == (1, 1)
    page = client.get(reverse("panel:list")).content.decode()
    assert "Short of reviewers" in page


@pytest.mark.parametrize("page", ["list", "table", "export", "assignments", "pool", "proposal"])
def test_an_officer_without_two_factor_authentication_must_set_it_up(client, page):
    world = World(mfa=False)
    world.p1 = world.proposal()
    client.force_login(world.officer)
    response = client.get(pages(world)[page])
    assert response.status_code == 302
    assert response["Location"].startswith(MFA_SETUP)


# ---------------------------------------------------------------------------------------------------
# Conflicts of the officer
# ---------------------------------------------------------------------------------------------------

def test_an_officer_in_conflict_does_not_see_the_proposal_anywhere(client, world):
    me = Reviewer.objects.create(user=world.officer, institute=world.institute)
    Conflict.objects.create(proposal=world.p1, reviewer=me, source="declared", cause="declared", created_at=NOW)
    client.force_login(world.officer)
    urls = pages(world)
    table = client.get(urls["table"])
    assert [row.proposal for row in table.context["rows"]] == [world.p2, world.p3]
    assert world.p1.reference not in table.content.decode()
    assert client.get(urls["proposal"]).status_code == 404
    assert client.post(urls["proposal"], {"recommendation": "reject"}).status_code == 404
    assert world.p1.reference not in client.get(urls["assignments"]).content.decode()
    sheet = load_workbook(io.BytesIO(client.get(urls["export"]).content)).active
    assert [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)] == [world.p2.reference, world.p3.reference]
    assert client.get(reverse("panel:list")).context["panels"][0].proposal_count == 2


# ---------------------------------------------------------------------------------------------------
# The panel table: content, sorting, filters, export
# ---------------------------------------------------------------------------------------------------

def references(response):
    return [row.proposal.reference for row in response.context["rows"]]


def test_the_table_shows_the_statistics_sorted_and_filtered(client, world):
    client.force_login(world.officer)
    url = pages(world)["table"]
    page = client.get(url)
    # p1: totals 3.5 and 2.5 → 3.00; p2: 5.0 and 1.0 → 3.00, spread 4 → disagreement; p3 unreviewed, last.
    assert references(page) == [world.p1.reference, world.p2.reference, world.p3.reference]
    html = page.content.decode()
    assert html.count("disagreement</span>") == 1
    assert 'aria-sort="descending"' in html
    assert 'href="?sort=reference"' in html
    assert references(client.get(url, {"sort": "-reference"})) == [world.p3.reference, world.p2.reference, world.p1.reference]
    assert references(client.get(url, {"sort": "spread"})) == [world.p1.reference, world.p2.reference, world.p3.reference]
    assert references(client.get(url, {"disagreement": "on"})) == [world.p2.reference]
    assert references(client.get(url, {"incomplete": "on"})) == [world.p3.reference]
    filtered = client.get(url, {"disagreement": "on", "sort": "-spread"})
    assert 'name="rank-' not in filtered.content.decode()  # ranking only on the whole table
    assert 'href="?disagreement=on&amp;sort=spread"' in filtered.content.decode()


def test_the_export_is_the_table_as_a_workbook(client, world):
    Proposal.objects.filter(pk=world.p3.pk).update(title="=HYPERLINK(\"http://evil.example\")")
    client.force_login(world.officer)
    response = client.get(pages(world)["export"], {"sort": "reference"})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert response["Content-Disposition"].startswith("attachment;")
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    criteria = [f"{c.position}. {c.label}" for c in world.criteria]
    assert rows[0] == ("Reference", "Acronym", "Title", "PI", "Status", *criteria, "Weighted total", "Median",
                       "Spread", "Disagreement", "Calibrated (z)", "Reviews done", "Reviews expected",
                       "Priority match", "Rank", "Recommendation", "Proposed amount (€)")
    assert [row[0] for row in rows[1:]] == [world.p1.reference, world.p2.reference, world.p3.reference]
    assert rows[1][5:10] == (3.0, 3.0, 3.0, 3.0, 1.0)
    assert rows[2][9:12] == (4.0, "yes", 0.0)  # A: 3.5 → -1, 5 → +1; B: 2.5 → +1, 1 → -1
    assert rows[3][2] == "=HYPERLINK(\"http://evil.example\")"
    assert sheet.cell(row=4, column=3).data_type == "s"  # text, never a formula
    filtered = load_workbook(io.BytesIO(client.get(pages(world)["export"], {"disagreement": "on"}).content)).active
    assert [row[0] for row in filtered.iter_rows(min_row=2, values_only=True)] == [world.p2.reference]


def test_saving_the_ranking(client, world):
    client.force_login(world.officer)
    url = reverse("panel:rank", args=[world.panel.pk])
    response = client.post(url, {f"rank-{world.p1.pk}": "5", f"rank-{world.p2.pk}": "2", f"rank-{world.p3.pk}": ""})
    assert response.status_code == 302
    assert dict(PanelRecommendation.objects.values_list("proposal_id", "rank")) == {world.p2.pk: 1, world.p1.pk: 2}
    refused = client.post(url, {f"rank-{world.p1.pk}": "1", f"rank-{world.p2.pk}": "1"}, follow=True)
    assert "Two proposals have the same rank: 1." in refused.content.decode()
    assert client.post(url, {f"rank-{world.p1.pk}": "first"}, follow=True).status_code == 200
    assert dict(PanelRecommendation.objects.values_list("proposal_id", "rank")) == {world.p2.pk: 1, world.p1.pk: 2}


# ---------------------------------------------------------------------------------------------------
# One proposal: reviews and recommendation
# ---------------------------------------------------------------------------------------------------

def test_the_proposal_page_shows_every_review_with_names_and_confidential_comments(client, world):
    world.p1.reviews.filter(reviewer=world.a).update(comment_for_pi="Clear aims.", confidential_comment="Weak PI.")
    client.force_login(world.officer)
    html = client.get(pages(world)["proposal"]).content.decode()
    for text in ("Alice Ames", "Bruno Bell", "Clear aims.", "Weak PI.", "Never name reviewers"):
        assert text in html


def test_recommending_from_the_proposal_page(client, world):
    client.force_login(world.officer)
    url = pages(world)["proposal"]
    out_of_bounds = client.post(url, {"consensus": "Good.", "recommendation": "fund", "proposed_amount": "20000"})
    assert out_of_bounds.status_code == 200
    assert "The amount must be between €10,000.00 and €14,000.00." in out_of_bounds.content.decode()
    assert not PanelRecommendation.objects.exists()
    saved = client.post(url, {"consensus": "Good.", "recommendation": "fund", "proposed_amount": "12500"})
    assert saved.status_code == 302
    record = PanelRecommendation.objects.get()
    assert (record.proposal, record.recommendation, str(record.proposed_amount), record.consensus) == (
        world.p1, "fund", "12500.00", "Good.")
    world.p1.refresh_from_db()
    assert world.p1.state == ProposalState.RANKED


# ---------------------------------------------------------------------------------------------------
# Assignments, conflicts, automatic assignment
# ---------------------------------------------------------------------------------------------------

def test_assigning_a_reviewer_by_hand(client, world):
    client.force_login(world.officer)
    url, data = actions(world)["assign"]
    response = client.post(url, data, follow=True)
    assert response.redirect_chain[-1][0] == reverse("panel:assignments", args=[world.panel.pk])
    assignment = Assignment.objects.get(proposal=world.p3)
    assert (assignment.reviewer, assignment.state, assignment.created_by, assignment.automatic) == (
        world.a, AssignmentState.INVITED, world.officer, False)
    assert "Alice Ames" in response.content.decode()


def test_a_conflicted_reviewer_is_refused_with_the_cause(client, world):
    colleague = world.reviewer("Carl Colleague")
    Reviewer.objects.filter(pk=colleague.pk).update(unit=world.unit)  # the PI's unit
    client.force_login(world.officer)
    response = client.post(reverse("panel:assign", args=[world.panel.pk]),
                           {"proposal": world.p3.pk, "reviewer": colleague.pk, "back": "proposal"}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("panel:proposal", args=[world.panel.pk, world.p3.pk])
    assert "cannot review this proposal: The reviewer belongs to the PI&#x27;s unit." in response.content.decode()
    assert not Assignment.objects.filter(proposal=world.p3).exists()


def test_setting_a_conflict_withdraws_the_open_assignment(client, world):
    client.force_login(world.officer)
    response = client.post(reverse("panel:conflict", args=[world.panel.pk]),
                           {"conflict-proposal": world.p1.pk, "conflict-reviewer": world.a.pk,
                            "conflict-reason": "Co-authored a paper last year."})
    assert response.status_code == 302
    conflict = Conflict.objects.get()
    assert (conflict.proposal, conflict.reviewer, conflict.source, conflict.detail, conflict.created_by) == (
        world.p1, world.a, "officer", "Co-authored a paper last year.", world.officer)
    assert Assignment.objects.get(proposal=world.p1, reviewer=world.a).state == AssignmentState.WITHDRAWN


RESULT = {"proposals": 3, "reviewers": 2, "created": 3, "missing": 1, "conflicts_recorded": 0, "target_load": 3,
          "max_load": 4, "highest_load": 2, "seconds": {}, "uncovered": []}


def short_of(proposal) -> dict:
    """A proposal left one reviewer short, as the job stores it."""
    return {"proposal_id": proposal.pk, "reference": proposal.reference, "need": 2, "missing": 1, "cause": "reviewers",
            "allowed": 1, "asked_before": 0, "max_load": 4}


def test_automatic_assignment_runs_in_the_background_and_the_page_shows_its_result(
        client, world, django_capture_on_commit_callbacks):
    short = world.proposal()
    client.force_login(world.officer)
    with django_capture_on_commit_callbacks(execute=True):  # the task runs eagerly once the start commits
        response = client.post(reverse("panel:auto_assign", args=[world.panel.pk]))
    assert (response.status_code, response["Location"]) == (
        302, reverse("panel:assignments", args=[world.panel.pk]) + "#auto-assign")
    assert sorted(Assignment.objects.filter(proposal__in=[world.p3, short]).values_list("proposal_id", "reviewer_id")) == [
        (world.p3.pk, world.a.pk), (world.p3.pk, world.b.pk), (short.pk, world.a.pk), (short.pk, world.b.pk)]
    html = client.get(response["Location"]).content.decode()
    assert "The automatic assignment has started." in html
    assert re.search(r'id="auto-status" role="status">Finished on [^<]*: 4 assignments created.</p>', html)
    assert "Every proposal has the reviewers it needs." in html
    assert "<progress" not in html and "hx-trigger" not in html  # finished: nothing to poll


def test_the_running_job_is_shown_with_its_progress_and_a_second_start_is_refused(client, world):
    client.force_login(world.officer)
    client.post(reverse("panel:auto_assign", args=[world.panel.pk]))  # no commit in this test: it stays queued
    job = AssignmentJob.objects.get()
    assert (job.state, job.started_by) == ("queued", world.officer)
    html = client.get(reverse("panel:assignments", args=[world.panel.pk])).content.decode()
    assert 'hx-trigger="every 2s"' in html
    assert '<progress class="progress" max="100" value="0" aria-labelledby="auto-status">0%</progress>' in html
    assert "Waiting for a worker to start it: 0% done." in html
    assert 'action="/panels/' not in html.split('id="auto-assign"')[1].split("</section>")[0]  # no start button

    refused = client.post(reverse("panel:auto_assign", args=[world.panel.pk]), follow=True)
    assert "An automatic assignment of this panel is already under way (started by Olga Officer at " in refused.content.decode()
    assert AssignmentJob.objects.count() == 1


def test_a_poll_swaps_the_status_and_stops_once_the_job_has_finished(client, world):
    client.force_login(world.officer)
    url = reverse("panel:auto_assign_state", args=[world.panel.pk])
    job = AssignmentJob.objects.create(panel=world.panel, started_by=world.officer, created_at=timezone.now(),
                                       state="running", phase="solving", progress=40, heartbeat_at=timezone.now())
    running = client.get(url, HTTP_HX_REQUEST="true")
    assert running.status_code == 200
    body = running.content.decode()
    assert '<p id="auto-status" role="status" hx-swap-oob="innerHTML">Choosing the reviewers: 40% done.</p>' in body
    assert 'value="40"' in body

    AssignmentJob.objects.filter(pk=job.pk).update(state="done", phase="done", progress=100, finished_at=timezone.now(),
                                                   result={**RESULT, "uncovered": [short_of(world.p3)]})
    done = client.get(url, HTTP_HX_REQUEST="true")
    assert done.status_code == 286  # htmx stops polling, and swaps this last answer in
    body = done.content.decode()
    assert "3 assignments created." in body
    assert f'<a href="/panels/{world.panel.pk}/proposals/{world.p3.pk}/">{world.p3.reference}</a> — only 1 reviewer' in body
    assert "<progress" not in body

    # Without htmx (a link followed), the assignments page.
    assert client.get(url)["Location"] == reverse("panel:assignments", args=[world.panel.pk]) + "#auto-assign"


def test_the_polled_result_costs_the_same_queries_for_one_or_three_proposals_left_short(client, world, queries):
    client.force_login(world.officer)
    job = AssignmentJob.objects.create(panel=world.panel, started_by=world.officer, created_at=timezone.now(),
                                       state="done", phase="done", progress=100, finished_at=timezone.now(),
                                       result={**RESULT, "uncovered": []})
    url = reverse("panel:auto_assign_state", args=[world.panel.pk])

    def leave_short(n):
        proposals = world.proposals(n)
        items = job.result["uncovered"] + [short_of(p) for p in proposals]
        AssignmentJob.objects.filter(pk=job.pk).update(result={**RESULT, "uncovered": items})
        job.refresh_from_db()

    assert queries.at_sizes(leave_short, lambda: _polled(client, url)) == (7, 7)


def _polled(client, url):
    response = client.get(url, HTTP_HX_REQUEST="true")
    assert response.status_code == 286
    response.status_code = 200  # what the query counter checks: the answer is the page, not an error
    return response


# ---------------------------------------------------------------------------------------------------
# The pool
# ---------------------------------------------------------------------------------------------------

def test_adding_a_new_reviewer_from_the_pool_page(client, world, mailoutbox, django_capture_on_commit_callbacks):
    UnitFactory(unit_type="UPR", number="0042")
    client.force_login(world.officer)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("panel:reviewer_add", args=[world.panel.pk]), {
            "email": "nina@abroad.example.org", "full_name": "Nina Expert", "unit_code": "upr42",
            "keywords": "ecology", "sections": "29", "external": "on",
        }, follow=True)
    assert "An account was created and a mail sent to choose a password." in response.content.decode()
    reviewer = Reviewer.objects.get(user__email="nina@abroad.example.org")
    assert (reviewer.institute, reviewer.unit.code, reviewer.external) == (world.institute, "UPR 0042", True)
    assert [message.to for message in mailoutbox] == [["nina@abroad.example.org"]]
    assert "Nina Expert" in response.content.decode()


def test_an_unknown_unit_is_shown_on_the_field(client, world):
    client.force_login(world.officer)
    response = client.post(reverse("panel:reviewer_add", args=[world.panel.pk]),
                           {"email": "x@example.org", "unit_code": "UMR 9999"})
    assert response.status_code == 400
    assert response.context["form"].errors["unit_code"] == ["No unit UMR 9999 is known."]
    assert not Reviewer.objects.filter(user__email="x@example.org").exists()


def test_deactivating_a_reviewer(client, world):
    client.force_login(world.officer)
    response = client.post(reverse("panel:reviewer_deactivate", args=[world.panel.pk, world.a.pk]), follow=True)
    world.a.refresh_from_db()
    assert world.a.active is False
    assert "inactive" in response.content.decode()
    pool = {r.user.email: (r.active, r.load) for r in response.context["reviewers"]}
    assert pool == {world.a.user.email: (False, 2), world.b.user.email: (True, 2)}


# ---------------------------------------------------------------------------------------------------
# Query counts
# ---------------------------------------------------------------------------------------------------

def _world(n):
    world = World()
    proposals = world.proposals(n, state=ProposalState.ELIGIBLE)
    reviewers = [world.reviewer() for _ in range(4)]
    world.reviews([(p, reviewers[i % 4], [4, 3, 5, 2, 4, 3]) for i, p in enumerate(proposals)]
                  + [(p, reviewers[(i + 1) % 4], [2, 3, 1, 2, 4, 5]) for i, p in enumerate(proposals)])
    for reviewer in reviewers[:2]:
        Conflict.objects.create(proposal=proposals[-1], reviewer=reviewer, source="officer", cause="officer",
                                created_at=NOW)
    world.first = proposals[0]
    return world


# #20: assignments +1 (bids per value) +2 (the absences in each form's choices) +1 (the affinities' state); pool +1
# (open suggestions) +2 (the reviewers' maximums, their coming absences); proposal +2 (who bid what, the dismissed
# matches) +1 (the best-matching reviewers).
PANEL_PAGE_QUERIES = {"table": (9, 9), "export": (9, 9), "assignments": (19, 19), "pool": (9, 9), "proposal": (25, 25)}  # #21: +2 the conversations (unread, award)


@pytest.mark.parametrize("page", ["table", "export", "assignments", "pool", "proposal"])
def test_panel_pages_cost_the_same_queries_at_10_and_200_proposals(client, page, queries):
    def count(world):
        client.force_login(world.officer)
        url = {
            "table": reverse("panel:table", args=[world.panel.pk]),
            "export": reverse("panel:export", args=[world.panel.pk]),
            "assignments": reverse("panel:assignments", args=[world.panel.pk]),
            "pool": reverse("panel:pool", args=[world.panel.pk]),
            "proposal": reverse("panel:proposal", args=[world.panel.pk, world.first.pk]),
        }[page]
        return queries(lambda: client.get(url))

    assert (count(_world(10)), count(_world(200))) == PANEL_PAGE_QUERIES[page]


def test_the_panel_list_costs_the_same_queries_with_one_or_four_panels(client, queries):
    client.force_login(StaffFactory())
    first = _world(3)
    more_panels = lambda n: [_world(5) for _ in range(n)]  # noqa: E731
    assert queries.at_sizes(more_panels, lambda: client.get(reverse("panel:list")), sizes=(0, 3)) == (8, 8)
    assert client.get(reverse("panel:list")).context["panels"][-1].proposal_count in (3, 5)
    assert first.panel in client.get(reverse("panel:list")).context["panels"]


def test_a_unit_outside_the_institute_does_not_bring_its_proposals(client, world):
    elsewhere = UnitFactory()
    Proposal.objects.filter(pk=world.p3.pk).update(unit=elsewhere)
    client.force_login(world.officer)
    assert references(client.get(pages(world)["table"])) == [world.p1.reference, world.p2.reference]
    assert client.get(reverse("panel:proposal", args=[world.panel.pk, world.p3.pk])).status_code == 404
    user = UserFactory()
    assert user.pk


# ---------------------------------------------------------------------------------------------------
# The table a page at a time (a panel of over a thousand proposals)
# ---------------------------------------------------------------------------------------------------

def test_the_table_shows_a_page_at_a_time_and_a_ranked_page_keeps_the_others_ranks(client, world, monkeypatch):
    from reviews.views import officer

    monkeypatch.setattr(officer, "TABLE_ROWS_PER_PAGE", 2)
    client.force_login(world.officer)
    url = reverse("panel:table", args=[world.panel.pk])
    first = client.get(f"{url}?sort=reference")
    assert [row.proposal for row in first.context["rows"]] == [world.p1, world.p2]
    assert re.findall(r'href="([^"]*)" rel="(?:prev|next)"', first.content.decode()) == ["?sort=reference&amp;page=2"]
    second = client.get(f"{url}?sort=reference&page=2")
    assert [row.proposal for row in second.context["rows"]] == [world.p3]
    assert second.context["page_ids"] == str(world.p3.pk)
    rank = reverse("panel:rank", args=[world.panel.pk])
    client.post(rank, {f"rank-{world.p1.pk}": "1", f"rank-{world.p2.pk}": "2",
                       "page_ids": f"{world.p1.pk},{world.p2.pk}"})
    # On page 2, p3 is put first: p1 and p2, on page 1, follow in their order.
    client.post(rank, {f"rank-{world.p3.pk}": "1", "page_ids": str(world.p3.pk)})
    assert dict(PanelRecommendation.objects.values_list("proposal_id", "rank")) == {
        world.p3.pk: 1, world.p1.pk: 2, world.p2.pk: 3}
    # Emptying p1's box on page 1 unranks it; p3, on the other page, keeps its place.
    client.post(rank, {f"rank-{world.p1.pk}": "", f"rank-{world.p2.pk}": "2",
                       "page_ids": f"{world.p1.pk},{world.p2.pk}"})
    assert dict(PanelRecommendation.objects.exclude(rank=None).values_list("proposal_id", "rank")) == {
        world.p3.pk: 1, world.p2.pk: 2}


def test_the_table_query_count_does_not_grow_with_the_panel(client, world, queries):
    client.force_login(world.officer)
    url = reverse("panel:table", args=[world.panel.pk])

    def review_more(n):
        world.reviews([(p, world.a, [3, 4]) for p in world.proposals(n)])

    assert queries.at_sizes(review_more, lambda: client.get(url), sizes=(0, 12)) == (9, 9)


@pytest.mark.parametrize("query", ["?sort=-priority", "?priority=on&sort=c1", "?under_threshold=on&sort=-calibrated",
                                   "?disagreement=on&recommendation=none&sort=acronym&page=2", "?incomplete=on"])
def test_every_sort_and_filter_costs_the_same_queries_at_two_sizes(client, world, queries, query, monkeypatch):
    """Sorting, filtering and paging are SQL on the kept figures (reviews.domain.panel_table): whatever the
    officer asks, one page costs the same queries, and the figures of new reviews are computed once."""
    from calls.models import InstitutePriority
    from reviews.views import officer

    monkeypatch.setattr(officer, "TABLE_ROWS_PER_PAGE", 2)
    InstitutePriority.objects.create(call=world.call, institute=world.institute, priority_countries=["BR"],
                                     themes_en="Coastal erosion")
    world.call.overall_threshold = 3
    world.call.save(update_fields=["overall_threshold"])
    client.force_login(world.officer)
    url = reverse("panel:table", args=[world.panel.pk]) + query

    def review_more(n):
        proposals = world.proposals(n, partner_country="BR", keywords="erosion, storms")
        world.reviews([(p, world.a, [5, 1]) for p in proposals] + [(p, world.b, [1, 1]) for p in proposals])

    assert queries.at_sizes(review_more, lambda: client.get(url), sizes=(1, 3)) == (9, 9)


def test_the_assignments_show_a_page_at_a_time_with_every_proposal_in_the_forms(client, world, monkeypatch):
    from reviews.views import officer_pool

    monkeypatch.setattr(officer_pool, "ASSIGNMENTS_PER_PAGE", 2)
    client.force_login(world.officer)
    url = reverse("panel:assignments", args=[world.panel.pk])
    first, second = client.get(url), client.get(f"{url}?page=2")
    assert [p.reference for p in first.context["proposals"]] == [world.p1.reference, world.p2.reference]
    assert [p.reference for p in second.context["proposals"]] == [world.p3.reference]
    # The forms still offer every proposal of the panel, whatever the page.
    options = re.findall(r'<option value="(\d+)"', second.content.decode().split('name="reviewer"')[0])
    assert sorted(int(pk) for pk in options) == sorted([world.p1.pk, world.p2.pk, world.p3.pk])


def test_the_export_writes_a_recommendation_as_text(client, world):
    """A recommendation's label is a lazy string, which openpyxl refuses (a 500 on the export)."""
    client.force_login(world.officer)
    url, data = actions(world)["recommend"]
    client.post(url, data)
    response = client.get(pages(world)["export"], {"sort": "reference"})
    assert response.status_code == 200
    rows = list(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
    assert (rows[1][0], rows[1][-2]) == (world.p1.reference, str(Recommendation.FUND.label))
