"""The review in the admin: who reaches the directorate's pages, what the screening pages do, their query counts
at two sizes, and the read-only lists. (What the decision pages do: tests/funding/test_decisions_admin.py.)"""


import pytest
from django.urls import reverse
from django.utils import timezone

from funding.domain.decisions import decision_set
from iea.audit.models import AuditEntry
from proposals.models import Proposal, ProposalState
from reviews.models import Conflict, Decision, Panel
from tests.factories import CallFactory, InstituteFactory, StaffFactory

from .factories import ReviewerFactory
from .staff_factories import closed_call, ranked_proposal, submitted_proposal

pytestmark = pytest.mark.django_db


@pytest.fixture
def past_call():
    return closed_call()


@pytest.fixture
def english(client):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def pages(call, proposal):
    return [
        reverse("admin:reviews_staff_calls"),
        reverse("admin:reviews_screening", args=[call.pk]),
        reverse("admin:reviews_decisions", args=[call.pk]),
        reverse("admin:reviews_decisions_notify", args=[call.pk]),
        reverse("admin:reviews_evaluation_summary", args=[proposal.pk]),
    ]


def state_of(proposal) -> str:
    return Proposal.objects.get(pk=proposal.pk).state


# Access ------------------------------------------------------------------------------------------------------


def test_anonymous_and_non_staff_are_sent_to_the_admin_sign_in(client, past_call, pi):
    proposal = ranked_proposal(past_call)
    for url in pages(past_call, proposal):
        response = client.get(url)
        assert (response.status_code, response["Location"].split("?")[0]) == (302, "/admin/login/"), url
    client.force_login(pi)
    for url in pages(past_call, proposal):
        response = client.get(url)
        assert (response.status_code, response["Location"].split("?")[0]) == (302, "/admin/login/"), url
        assert client.post(url).status_code == 302
    assert Decision.objects.count() == 0


def test_staff_without_the_permissions_are_refused(client, past_call):
    proposal = submitted_proposal(past_call)
    clerk = StaffFactory(is_superuser=False)
    client.force_login(clerk)
    for url in pages(past_call, proposal):
        assert client.get(url).status_code == 403, url
    screening = reverse("admin:reviews_screening", args=[past_call.pk])
    assert client.post(screening, {"proposal": proposal.pk, "verdict": "eligible"}).status_code == 403
    assert state_of(proposal) == ProposalState.SUBMITTED


def test_staff_reach_the_pages_from_the_admin_index(english, staff, past_call):
    english.force_login(staff)
    proposal = ranked_proposal(past_call)
    index = english.get("/admin/")
    calls_url = reverse("admin:reviews_staff_calls")
    assert calls_url.encode() in index.content
    assert calls_url.encode() in english.get(reverse("admin:reviews_decision_changelist")).content
    calls = english.get(calls_url)
    assert reverse("admin:reviews_screening", args=[past_call.pk]).encode() in calls.content
    for url in pages(past_call, proposal):
        assert english.get(url).status_code == 200, url


# Screening page -----------------------------------------------------------------------------------------------


def test_the_screening_page_shows_the_automatic_result(english, staff, past_call):
    submitted_proposal(past_call, reference="IEA30-GOOD")
    submitted_proposal(past_call, reference="IEA30-BAD", partner_country="FR")
    english.force_login(staff)
    response = english.get(reverse("admin:reviews_screening", args=[past_call.pk]))
    content = response.content.decode()
    assert response.status_code == 200
    assert "Confirm the 1 automatically eligible proposal" in content
    assert "The partner must work in a country other than France." in content
    assert content.count('value="Mark ineligible"') == 2
    assert "<script" not in content.split('id="content-main"')[1]


def test_the_screening_page_before_the_deadline_offers_no_action(english, staff):
    call = CallFactory()
    submitted_proposal(call)
    english.force_login(staff)
    content = english.get(reverse("admin:reviews_screening", args=[call.pk])).content.decode()
    assert "screening waits for the deadline" in content
    assert 'value="Mark ineligible"' not in content
    assert "automatically eligible" not in content


def test_screening_from_the_page(english, staff, past_call, mailoutbox, django_capture_on_commit_callbacks):
    good, bad, other = submitted_proposal(past_call), submitted_proposal(past_call), submitted_proposal(past_call)
    english.force_login(staff)
    url = reverse("admin:reviews_screening", args=[past_call.pk])
    assert english.post(url, {"proposal": good.pk, "verdict": "eligible"}).status_code == 302
    with django_capture_on_commit_callbacks(execute=True):
        response = english.post(url, {"proposal": bad.pk, "verdict": "ineligible", "reason": "No signed letter."},
                                follow=True)
    assert f"{bad.reference} is ineligible; the PI is told why." in response.content.decode()
    assert (state_of(good), state_of(bad)) == (ProposalState.ELIGIBLE, ProposalState.INELIGIBLE)
    assert [m.to for m in mailoutbox] == [[bad.pi.email]]
    response = english.post(url, {"proposal": other.pk, "verdict": "ineligible", "reason": ""}, follow=True)
    assert "Give the reason the proposal is ineligible" in response.content.decode()
    assert state_of(other) == ProposalState.SUBMITTED
    response = english.post(url, {"action": "confirm_all"}, follow=True)
    assert "1 proposal confirmed eligible." in response.content.decode()
    assert state_of(other) == ProposalState.ELIGIBLE


def test_screening_refuses_a_proposal_of_another_call(english, staff, past_call):
    stranger = submitted_proposal(closed_call())
    english.force_login(staff)
    response = english.post(reverse("admin:reviews_screening", args=[past_call.pk]),
                            {"proposal": stranger.pk, "verdict": "eligible"}, follow=True)
    assert "This proposal is not in this call" in response.content.decode()
    assert state_of(stranger) == ProposalState.SUBMITTED


# Query counts at two sizes --------------------------------------------------------------------------------------


def test_the_screening_page_query_count_does_not_grow(client, staff, past_call, queries):
    client.force_login(staff)
    url = reverse("admin:reviews_screening", args=[past_call.pk])

    def submit(n):
        for index in range(n):
            submitted_proposal(past_call, letter=bool(index % 3), partner_country="FR" if index % 5 == 0 else "BR")

    assert queries.at_sizes(submit, lambda: client.get(url), sizes=(3, 30)) == (13, 13)  # with the requests for information (#21), read once


# The lists -----------------------------------------------------------------------------------------------------------

LISTS = ["panel", "conflict", "assignment", "review", "panelrecommendation", "decision", "reviewer"]
LIST_QUERIES = {"panel": (9, 9), "conflict": (10, 10), "assignment": (8, 8), "review": (8, 8),
                "panelrecommendation": (8, 8), "decision": (8, 8), "reviewer": (7, 7)}


def review_data(call, staff, n: int):
    for rank in range(1, n + 1):
        proposal = ranked_proposal(call, rank=rank)
        review = proposal.reviews.first()
        Conflict.objects.create(proposal=proposal, reviewer=review.reviewer, source="officer", cause="officer",
                                created_at=timezone.now())
        # The conflict leaves one counted review of the two: staff decide anyway, with a reason.
        decision_set(proposal_id=proposal.pk, user=staff, outcome="reserve", amount=None, now=timezone.now(),
                     override_reason="The second reviewer is in conflict.")


@pytest.mark.parametrize("model", LISTS)
def test_the_lists_query_count_does_not_grow(client, staff, past_call, model, queries):
    client.force_login(staff)
    url = reverse(f"admin:reviews_{model}_changelist")
    assert queries.at_sizes(lambda n: review_data(past_call, staff, n), lambda: client.get(url),
                            sizes=(1, 5)) == LIST_QUERIES[model]


@pytest.mark.parametrize("model", ["conflict", "assignment", "review", "panelrecommendation", "decision"])
def test_the_records_written_by_the_domain_are_read_only(client, staff, past_call, model):
    review_data(past_call, staff, 1)
    client.force_login(staff)
    record = {"conflict": Conflict, "decision": Decision}.get(model)
    obj = record.objects.first() if record else None
    if obj is None:
        from django.apps import apps

        obj = apps.get_model("reviews", model).objects.first()
    change = reverse(f"admin:reviews_{model}_change", args=[obj.pk])
    assert client.get(change).status_code == 200
    before = AuditEntry.objects.count()
    assert client.post(change, {}).status_code == 403
    assert client.get(reverse(f"admin:reviews_{model}_add")).status_code == 403
    assert client.post(reverse(f"admin:reviews_{model}_delete", args=[obj.pk]), {"post": "yes"}).status_code == 403
    assert AuditEntry.objects.count() == before


def test_a_panel_is_set_up_in_the_admin(client, staff, past_call):
    institute = InstituteFactory()
    officer = StaffFactory(email="officer@cnrs.example.fr", is_staff=False, is_superuser=False)
    client.force_login(staff)
    response = client.post(reverse("admin:reviews_panel_add"), {
        "call": past_call.pk, "institute": institute.pk, "officers": [officer.pk], "reviews_per_proposal": 3,
        "review_due_at_0": "2031-01-15", "review_due_at_1": "12:00",
    })
    assert response.status_code == 302, response.content.decode()[:2000]
    panel = Panel.objects.get()
    assert (panel.reviews_per_proposal, list(panel.officers.all())) == (3, [officer])
    assert AuditEntry.objects.filter(action="panel.create").count() == 1
    change = reverse("admin:reviews_panel_change", args=[panel.pk])
    response = client.get(change)
    assert b'name="call"' not in response.content  # fixed once the panel exists


def test_a_reviewers_institute_is_fixed_once_they_are_in_a_pool(client, staff):
    """Their reviews count in that institute's panels (reviews.domain.panel_figures keeps their figures)."""
    client.force_login(staff)
    assert b'name="institute"' in client.get(reverse("admin:reviews_reviewer_add")).content
    reviewer = ReviewerFactory()
    institute = reviewer.institute
    change = reverse("admin:reviews_reviewer_change", args=[reviewer.pk])
    assert b'name="institute"' not in client.get(change).content
    response = client.post(change, {"user": reviewer.user_id, "institute": InstituteFactory().pk,
                                    "institution": "Elsewhere", "keywords": "", "sections": "", "active": "on"})
    assert response.status_code == 302
    reviewer.refresh_from_db()
    assert (reviewer.institution, reviewer.institute) == ("Elsewhere", institute)


# Screening counts and history on the page, and in the proposal's admin ---------------------------------------


def test_the_screening_page_shows_the_counts_by_outcome_and_who_screened(english, staff, past_call):
    from reviews.domain.screening import proposal_screen

    screener = StaffFactory(full_name="Inès Contrôle")
    kept = submitted_proposal(past_call, reference="IEA30-KEPT")
    dropped = submitted_proposal(past_call, reference="IEA30-DROP")
    proposal_screen(proposal_id=kept.pk, user=screener, eligible=True, reason="", now=timezone.now())
    proposal_screen(proposal_id=dropped.pk, user=screener, eligible=False, reason="No letter.", now=timezone.now())
    Proposal.objects.filter(pk=kept.pk).update(state=ProposalState.IN_REVIEW)
    english.force_login(staff)
    content = english.get(reverse("admin:reviews_screening", args=[past_call.pk])).content.decode()
    assert "To screen: <strong>0</strong> · eligible: <strong>1</strong> · ineligible: <strong>1</strong>" in " ".join(content.split())
    history = content.split('id="screening-history"')[1]
    assert history.count("Inès Contrôle") == 2
    assert "IEA30-KEPT" in history and "IEA30-DROP" in history and "No letter." in history
    admin_page = english.get(reverse("admin:proposals_proposal_change", args=[dropped.pk])).content.decode()
    assert "Ineligible, by Inès Contrôle on" in admin_page and "Reason: No letter." in admin_page
    fresh = submitted_proposal(past_call)
    assert "Not screened yet." in english.get(reverse("admin:proposals_proposal_change", args=[fresh.pk])).content.decode()


def test_the_screening_page_with_history_query_count_does_not_grow(client, staff, past_call, queries):
    from reviews.domain.screening import proposal_screen

    client.force_login(staff)
    url = reverse("admin:reviews_screening", args=[past_call.pk])

    def screened(n):
        for _ in range(n):
            proposal = submitted_proposal(past_call)
            proposal_screen(proposal_id=proposal.pk, user=StaffFactory(), eligible=True, reason="", now=timezone.now())
        submitted_proposal(past_call)

    assert queries.at_sizes(screened, lambda: client.get(url), sizes=(1, 6)) == (14, 14)  # with the requests for information (#21), read once
