"""The reviewer's pages: who reaches what (every page and the letter), the invitation and its answers, the
proposal as submitted, the review form with autosave, the other reviews, the invitation mail, and the
list's query count."""

import datetime as dt
from decimal import Decimal

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from iea import formats
from proposals.models import Proposal
from reviews.domain.assignment import assignment_create
from reviews.domain.scoring import review_open, review_save_draft, review_submit
from reviews.models import Assignment, AssignmentState, Conflict, Review, ReviewState
from reviews.views import reviewer as reviewer_views
from tests.factories import CallFactory, UserFactory

from .factories import AssignmentFactory, PanelFactory, ReviewerFactory, eligible_proposal

pytestmark = pytest.mark.django_db

PAGES = ["invitation", "proposal", "letter", "review"]
POSTS = ["accept", "decline", "declare_conflict", "review_autosave"]


def url(name, assignment):
    return reverse(f"reviewer:{name}", kwargs={"pk": assignment.pk})


@pytest.fixture
def assignment():
    return AssignmentFactory()


@pytest.fixture
def reviewer_client(client, assignment):
    client.force_login(assignment.reviewer.user)
    return client


def fill_and_submit(assignment, *, comment="Good project.", confidential="Between us.", score=Decimal(4)):
    user = assignment.reviewer.user
    now = timezone.now()
    review = review_open(assignment_id=assignment.pk, user=user, now=now)
    review_save_draft(
        review_id=review.pk, user=user, lock_version=review.lock_version, now=now,
        data={"comment_for_pi": comment, "confidential_comment": confidential, "recommendation": "fund"},
        scores={s.criterion_id: (score, f"On {s.criterion.label_en}.") for s in review.scores.select_related("criterion")},
    )
    return review_submit(review_id=review.pk, user=user, now=now)


def form_data(review, **overrides):
    data = {"lock_version": review.lock_version, "comment_for_pi": "", "confidential_comment": "", "recommendation": ""}
    for score in review.scores.all():
        data[f"score_{score.criterion_id}"] = ""
        data[f"comment_{score.criterion_id}"] = ""
    data.update(overrides)
    return data


# --- Who reaches what ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", PAGES + ["assignments"])
def test_anonymous_is_sent_to_sign_in(client, assignment, name):
    target = reverse("reviewer:assignments") if name == "assignments" else url(name, assignment)
    response = client.get(target)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


@pytest.mark.parametrize("name", PAGES + ["assignments"])
def test_a_reviewer_without_two_factor_authentication_sets_it_up_first(client, name):
    assignment = AssignmentFactory(reviewer=ReviewerFactory(mfa=False))
    client.force_login(assignment.reviewer.user)
    target = reverse("reviewer:assignments") if name == "assignments" else url(name, assignment)
    response = client.get(target)
    assert response.status_code == 302
    assert response["Location"] == f"/accounts/2fa/totp/activate/?{urlencode({'next': target})}"


@pytest.mark.parametrize("name", ["invitation", "proposal", "review"])
def test_the_assigned_reviewer_reads_the_pages(reviewer_client, assignment, name):
    assert reviewer_client.get(url(name, assignment)).status_code == 200


def test_the_assigned_reviewer_downloads_the_letter_of_the_submitted_version(reviewer_client, assignment):
    response = reviewer_client.get(url("letter", assignment))
    assert response.status_code == 200
    assert (response["Content-Type"], response["X-Content-Type-Options"]) == ("application/pdf", "nosniff")
    assert response["Content-Disposition"] == (
        f'attachment; filename="support-letter-{assignment.proposal.reference}.pdf"')
    assert b"".join(response.streaming_content).startswith(b"%PDF")


def _others(assignment):
    return {
        "another_reviewer": ReviewerFactory(institute=assignment.reviewer.institute).user,
        "pi": assignment.proposal.pi,
    }


@pytest.mark.parametrize("who", ["another_reviewer", "pi"])
@pytest.mark.parametrize("name", PAGES)
def test_others_get_404_on_every_page(client, assignment, who, name):
    client.force_login(_others(assignment)[who])
    assert client.get(url(name, assignment)).status_code == 404


@pytest.mark.parametrize("who", ["another_reviewer", "pi"])
@pytest.mark.parametrize("name", POSTS)
def test_others_get_404_on_every_action(client, assignment, who, name):
    client.force_login(_others(assignment)[who])
    assert client.post(url(name, assignment), {"decline-reason": "x", "conflict-reason": "x"}).status_code == 404
    assignment.refresh_from_db()
    assert assignment.state == AssignmentState.ACCEPTED
    assert Conflict.objects.count() == 0


@pytest.mark.parametrize("name", PAGES + POSTS)
def test_a_reviewer_in_conflict_is_refused_everywhere_with_the_reason(reviewer_client, assignment, name):
    # Recorded without withdrawing the assignment: the rules' conflict check alone must close access.
    Conflict.objects.create(proposal=assignment.proposal, reviewer=assignment.reviewer, source="officer",
                            cause="officer", created_at=timezone.now())
    method = reviewer_client.post if name in POSTS else reviewer_client.get
    response = method(url(name, assignment))
    if name == "review_autosave":  # htmx swaps fragments only: a plain refusal
        assert response.status_code == 404
        return
    assert response.status_code == 410
    html = response.content.decode()
    assert "A conflict of interest between you and this proposal was recorded on" in html
    assert "Coastal erosion" not in html
    assert "Content-Disposition" not in response


def test_a_reviewer_in_conflict_does_not_see_the_assignment_listed(reviewer_client, assignment):
    Conflict.objects.create(proposal=assignment.proposal, reviewer=assignment.reviewer, source="officer",
                            cause="officer", created_at=timezone.now())
    response = reviewer_client.get(reverse("reviewer:assignments"))
    assert list(response.context["assignments"]) == []


@pytest.mark.parametrize("name", ["proposal", "letter", "review"])
def test_an_invited_reviewer_sees_the_invitation_only(client, name):
    assignment = AssignmentFactory(state=AssignmentState.INVITED)
    client.force_login(assignment.reviewer.user)
    assert client.get(url("invitation", assignment)).status_code == 200
    assert client.get(url(name, assignment)).status_code == 404
    assert client.post(url("review_autosave", assignment)).status_code == 404
    assert Review.objects.count() == 0


def test_a_declined_assignment_gives_no_access_and_says_why(client):
    assignment = AssignmentFactory(state=AssignmentState.DECLINED, responded_at=dt.datetime(2027, 10, 4, 9, 30, tzinfo=dt.UTC))
    client.force_login(assignment.reviewer.user)
    responses = [client.get(url(name, assignment)) for name in PAGES]
    assert [r.status_code for r in responses] == [410, 410, 410, 410]
    when = formats.datetime(assignment.responded_at)
    assert "11:30 (Paris time)" in when
    assert f"You declined this invitation on {when}." in responses[0].content.decode()
    assert reverse("reviewer:assignments") in responses[0].content.decode()


# --- The invitation -----------------------------------------------------------------------------------------


@pytest.fixture
def invited(client):
    assignment = AssignmentFactory(state=AssignmentState.INVITED)
    client.force_login(assignment.reviewer.user)
    return assignment


def test_the_invitation_shows_only_what_the_conflict_check_needs(client, invited):
    response = client.get(url("invitation", invited))
    html = response.content.decode()
    proposal = invited.proposal
    for shown in ["Coastal erosion under changing storms", "We study coastal erosion with partners abroad.",
                  "erosion, coasts, storms", "Marie Curie", "Ana Souza", "Universidade de São Paulo",
                  proposal.pi.get_full_name(), proposal.unit.code, proposal.unit.name]:
        assert shown in html, shown
    for hidden in ["Two missions per year and a workshop.", "No ethical issue.", "ana@usp.example.br", "6,000",
                   "6000", url("letter", invited)]:
        assert hidden not in html, hidden


def test_accepting_opens_the_review(client, invited):
    response = client.post(url("accept", invited))
    assert response.status_code == 302
    assert response["Location"] == url("review", invited)
    invited.refresh_from_db()
    assert invited.state == AssignmentState.ACCEPTED
    assert client.get(url("review", invited)).status_code == 200


def test_declining_needs_a_reason(client, invited):
    response = client.post(url("decline", invited), {"decline-reason": " "})
    assert response.status_code == 400
    invited.refresh_from_db()
    assert invited.state == AssignmentState.INVITED

    response = client.post(url("decline", invited), {"decline-reason": "On leave until June."}, follow=True)
    invited.refresh_from_db()
    assert (invited.state, invited.decline_reason) == (AssignmentState.DECLINED, "On leave until June.")
    assert list(response.context["assignments"]) == []
    assert client.get(url("invitation", invited)).status_code == 410


def test_declaring_a_conflict_removes_access_at_once_and_says_so(client, invited):
    response = client.post(url("declare_conflict", invited), {"conflict-reason": "My former PhD student."}, follow=True)
    assert response.redirect_chain == [(reverse("reviewer:assignments"), 302)]
    assert [str(m) for m in response.context["messages"]] == [
        f"You declared a conflict of interest with {invited.proposal.reference}. The proposal is no longer "
        "available to you, and the officer will find another reviewer."]
    assert list(response.context["assignments"]) == []
    assert list(Conflict.objects.values_list("source", "detail")) == [("declared", "My former PhD student.")]
    assert client.get(url("invitation", invited)).status_code == 410


def test_the_invitation_is_mailed_on_assignment(django_capture_on_commit_callbacks, mailoutbox, staff):
    proposal = eligible_proposal()
    panel = PanelFactory(call=proposal.call, institute=proposal.institute)
    reviewer = ReviewerFactory(institute=proposal.institute, user=UserFactory(email="rita@example.org"))
    due = dt.datetime(2031, 3, 10, 11, 0, tzinfo=dt.UTC)
    with django_capture_on_commit_callbacks(execute=True):
        assignment = assignment_create(panel=panel, proposal=proposal, reviewer=reviewer, user=staff,
                                       now=timezone.now(), due_at=due)
        assert mailoutbox == []

    assert [message.to for message in mailoutbox] == [["rita@example.org"]]
    message = mailoutbox[0]
    assert message.subject == (
        f"Invitation to review {proposal.reference} COAST (CNRS International Emerging Actions)")
    for expected in ["Coastal erosion under changing storms", "We study coastal erosion with partners abroad.",
                     "- Marie Curie", "- Ana Souza", "Universidade de São Paulo", proposal.pi.get_full_name(),
                     proposal.unit.code, "10\N{NO-BREAK SPACE}March 2031, 12:00",
                     f"/review/{assignment.pk}/invitation/"]:
        assert expected in message.body, expected
    assert "Two missions per year" not in message.body
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html"
    assert f'<a href="{settings.SITE_URL}/review/{assignment.pk}/invitation/">Answer the invitation</a>' in html
    assert "Marie Curie" in html


# --- The proposal as submitted ------------------------------------------------------------------------------


def test_the_proposal_page_shows_the_submitted_version_not_the_live_draft(reviewer_client, assignment):
    Proposal.objects.filter(pk=assignment.proposal_id).update(
        title="Changed after the last submission", activities="Secret new plan")
    html = reviewer_client.get(url("proposal", assignment)).content.decode()
    for shown in ["Coastal erosion under changing storms", "Two missions per year and a workshop.", "No ethical issue.",
                  "Marie Curie", url("letter", assignment)]:
        assert shown in html, shown
    assert "Changed after the last submission" not in html
    assert "Secret new plan" not in html


# --- The review form ----------------------------------------------------------------------------------------


def test_the_review_form_lists_the_criteria_in_order_with_half_point_scores(reviewer_client, assignment):
    response = reviewer_client.get(url("review", assignment))
    form = response.context["form"]
    rows = form.criterion_rows()
    assert [criterion.position for criterion, _score, _comment in rows] == [1, 2, 3, 4, 5, 6]
    choices = [value for value, _label in rows[0][1].field.widget.choices]
    assert choices == ["", "0", "0.5", "1", "1.5", "2", "2.5", "3", "3.5", "4", "4.5", "5"]
    html = response.content.decode()
    assert f'hx-post="{url("review_autosave", assignment)}"' in html
    assert "Scientific quality of the project" in html


def test_save_without_javascript(reviewer_client, assignment):
    reviewer_client.get(url("review", assignment))
    review = Review.objects.get()
    first = review.scores.order_by("criterion__position").first()
    response = reviewer_client.post(url("review", assignment), form_data(
        review, **{f"score_{first.criterion_id}": "4.5", f"comment_{first.criterion_id}": "Clear aims."},
        comment_for_pi="Well argued."))
    assert response.status_code == 302
    review.refresh_from_db()
    first.refresh_from_db()
    assert (review.comment_for_pi, review.lock_version, first.score, first.comment) == (
        "Well argued.", 2, Decimal("4.5"), "Clear aims.")
    # The saved values come back in the form.
    form = reviewer_client.get(url("review", assignment)).context["form"]
    assert form[f"score_{first.criterion_id}"].value() == "4.5"


def test_a_score_not_offered_is_refused_on_its_field(reviewer_client, assignment):
    reviewer_client.get(url("review", assignment))
    review = Review.objects.get()
    first = review.scores.order_by("criterion__position").first()
    response = reviewer_client.post(url("review", assignment), form_data(review, **{f"score_{first.criterion_id}": "4.2"}))
    assert response.status_code == 400
    assert response.context["form"].errors[f"score_{first.criterion_id}"] == [
        "“Scientific quality of the project”: the score must be a multiple of 0.5."]
    first.refresh_from_db()
    assert first.score is None


def test_autosave_answers_out_of_band_fragments(reviewer_client, assignment):
    reviewer_client.get(url("review", assignment))
    review = Review.objects.get()
    response = reviewer_client.post(url("review_autosave", assignment), form_data(review, comment_for_pi="Draft."))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="saved-indicator"' in html and "Saved at" in html
    assert '<input type="hidden" name="lock_version" value="2" id="id_lock_version" hx-swap-oob="true">' in html
    assert 'id="missing" class="stack"' in html
    review.refresh_from_db()
    assert review.comment_for_pi == "Draft."


def test_autosave_shows_the_error_on_the_field(reviewer_client, assignment):
    reviewer_client.get(url("review", assignment))
    review = Review.objects.get()
    criterion_id = review.scores.order_by("criterion__position").last().criterion_id
    response = reviewer_client.post(url("review_autosave", assignment), form_data(review, **{f"score_{criterion_id}": "7"}))
    assert response.status_code == 400
    html = response.content.decode()
    assert f'<div id="err-score_{criterion_id}" hx-swap-oob="true"><ul class="errorlist"' in html
    assert "“Financial justification”: the score must be between 0 and 5." in html


def test_autosave_from_a_stale_tab_is_refused_with_the_conflict_banner(reviewer_client, assignment):
    reviewer_client.get(url("review", assignment))
    review = Review.objects.get()
    stale = form_data(review, comment_for_pi="From the old tab")
    assert reviewer_client.post(url("review_autosave", assignment), form_data(review, comment_for_pi="New tab")).status_code == 200
    response = reviewer_client.post(url("review_autosave", assignment), stale)
    assert response.status_code == 409
    html = response.content.decode()
    assert "Your latest changes were not saved" in html
    assert 'name="overwrite_version" value="2"' in html
    assert 'name="lock_version"' not in html
    review.refresh_from_db()
    assert review.comment_for_pi == "New tab"
    # "Keep this window's version" posts the form with the current version.
    response = reviewer_client.post(url("review", assignment), {**stale, "overwrite_version": "2"})
    review.refresh_from_db()
    assert (response.status_code, review.comment_for_pi) == (302, "From the old tab")


def test_submit_from_the_form_lists_what_is_missing(reviewer_client, assignment):
    reviewer_client.get(url("review", assignment))
    review = Review.objects.get()
    response = reviewer_client.post(url("review", assignment), {**form_data(review, comment_for_pi="Fine."),
                                                               "action": "submit"}, follow=True)
    assert [str(m) for m in response.context["messages"]] == [
        "Saved, but not submitted yet. Still missing:",
        "Score “Scientific quality of the project”.", "Score “Value of the international collaboration”.",
        "Score “Scientific quality and complementarity of the teams”.",
        "Score “Participation of early-career researchers”.", "Score “Ethics”.", "Score “Financial justification”.",
        "Choose a recommendation.",
    ]
    review.refresh_from_db()
    assert (review.state, review.comment_for_pi) == (ReviewState.DRAFT, "Fine.")


def test_submit_from_the_form_locks_the_review(reviewer_client, assignment):
    reviewer_client.get(url("review", assignment))
    review = Review.objects.get()
    scores = {f"score_{s.criterion_id}": "3" for s in review.scores.all()}
    response = reviewer_client.post(url("review", assignment), {
        **form_data(review, comment_for_pi="Fine.", recommendation="reserve", **scores), "action": "submit"}, follow=True)
    review.refresh_from_db()
    assert review.state == ReviewState.SUBMITTED
    assert response.context["form"] is None
    assert 'id="review-form"' not in response.content.decode()
    # Nothing changes it any more, with or without JavaScript.
    reviewer_client.post(url("review", assignment), form_data(review, comment_for_pi="Changed"))
    response = reviewer_client.post(url("review_autosave", assignment), form_data(review, comment_for_pi="Changed"))
    assert response.status_code == 409
    review.refresh_from_db()
    assert review.comment_for_pi == "Fine."


def test_a_conflict_declared_mid_review_closes_the_review_and_the_letter(reviewer_client, assignment):
    assert reviewer_client.get(url("review", assignment)).status_code == 200
    response = reviewer_client.post(url("declare_conflict", assignment), {"conflict-reason": "Co-author last year."})
    assert response.status_code == 302
    assignment.refresh_from_db()
    assert assignment.state == AssignmentState.WITHDRAWN
    assert [reviewer_client.get(url(name, assignment)).status_code for name in ["review", "letter", "proposal"]] == [
        410, 410, 410]
    assert reviewer_client.post(url("review_autosave", assignment)).status_code == 404


# --- The other reviews --------------------------------------------------------------------------------------


def test_other_reviews_are_hidden_until_the_reviewer_submits(reviewer_client, assignment):
    colleague = AssignmentFactory(proposal=assignment.proposal, panel=assignment.panel,
                                  reviewer=ReviewerFactory(institute=assignment.reviewer.institute,
                                                           user=UserFactory(full_name="Colette Colleague")))
    fill_and_submit(colleague, comment="Colleague's comment for the PI.", confidential="Colleague's secret note.")

    before = reviewer_client.get(url("review", assignment))
    html = before.content.decode()
    assert before.context["others"] is None
    for hidden in ["Colette Colleague", "Colleague's comment for the PI.", "Colleague's secret note."]:
        assert hidden not in html

    fill_and_submit(assignment)
    after = reviewer_client.get(url("review", assignment))
    html = after.content.decode()
    assert [review.pk for review in after.context["others"]] == [colleague.review.pk]
    for shown in ["Colette Colleague", "Colleague&#x27;s comment for the PI.", "Colleague&#x27;s secret note.",
                  "On Ethics."]:
        assert shown in html, shown


def test_a_draft_of_another_reviewer_is_never_shown(reviewer_client, assignment):
    colleague = AssignmentFactory(proposal=assignment.proposal, panel=assignment.panel,
                                  reviewer=ReviewerFactory(institute=assignment.reviewer.institute))
    draft = review_open(assignment_id=colleague.pk, user=colleague.reviewer.user, now=timezone.now())
    fill_and_submit(assignment)
    assert reviewer_client.get(url("review", assignment)).context["others"] == []
    assert Review.objects.get(pk=draft.pk).state == ReviewState.DRAFT


# --- The list -----------------------------------------------------------------------------------------------


def test_the_list_shows_each_open_assignment_with_its_state(reviewer_client, assignment):
    reviewer = assignment.reviewer
    invited = AssignmentFactory(reviewer=reviewer, state=AssignmentState.INVITED,
                                proposal=eligible_proposal(unit__main_institute=reviewer.institute),
                                due_at=timezone.now() + dt.timedelta(days=40))
    AssignmentFactory(reviewer=reviewer, state=AssignmentState.DECLINED,
                      proposal=eligible_proposal(unit__main_institute=reviewer.institute))
    fill_and_submit(assignment)
    response = reviewer_client.get(reverse("reviewer:assignments"))
    assert response.status_code == 200
    rows = [(a.pk, a.state, a.own_review.state if a.own_review else None) for a in response.context["assignments"]]
    # The invitation still asks for an answer: it comes before the review already submitted.
    assert rows == [(invited.pk, "invited", None), (assignment.pk, "accepted", "submitted")]
    html = response.content.decode()
    assert url("invitation", invited) in html
    assert assignment.proposal.reference in html
    assert reviewer.institute.usage_name in html
    assert 'aria-label="Pages of my reviews"' not in html  # one page: no pager


@pytest.fixture
def two_per_page(monkeypatch):
    monkeypatch.setattr(reviewer_views, "ASSIGNMENTS_PER_PAGE", 2)


def test_the_list_pages_what_is_due_first_then_what_is_settled_latest_first(client, two_per_page):
    reviewer = ReviewerFactory()
    now = timezone.now()

    def assigned(days, state=AssignmentState.ACCEPTED):
        proposal = eligible_proposal(unit__main_institute=reviewer.institute)
        return AssignmentFactory(reviewer=reviewer, proposal=proposal, state=state,
                                 due_at=now + dt.timedelta(days=days))

    submitted_long_ago = assigned(-400)
    fill_and_submit(submitted_long_ago)
    closed_recently = assigned(-30, AssignmentState.CLOSED)
    due_later = assigned(20)
    overdue = assigned(-2)
    invited = assigned(5, AssignmentState.INVITED)
    client.force_login(reviewer.user)

    def page(number):
        response = client.get(reverse("reviewer:assignments"), {"page": number})
        assert response.status_code == 200
        return response, [a.pk for a in response.context["assignments"]]

    first, rows = page(1)
    assert rows == [overdue.pk, invited.pk]
    html = first.content.decode()
    assert '<nav class="cluster" aria-label="Pages of my reviews">' in html
    assert "Page 1 of 3" in html
    assert 'href="?page=2" rel="next"' in html
    assert page(2)[1] == [due_later.pk, closed_recently.pk]
    last, rows = page(3)
    assert rows == [submitted_long_ago.pk]
    assert 'href="?page=2" rel="prev"' in last.content.decode()
    # A page past the end shows the last one; a page that is not a number, the first.
    assert page(9)[1] == [submitted_long_ago.pk]
    assert page("x")[1] == [overdue.pk, invited.pk]


def test_only_what_is_still_asked_reads_overdue(client):
    """Past their due date: an accepted assignment without a submitted review is overdue; a submitted review reads
    "submitted", a closed one "no longer due" — never "overdue"."""
    reviewer = ReviewerFactory()
    now = timezone.now()

    def assigned(state):
        proposal = eligible_proposal(unit__main_institute=reviewer.institute)
        return AssignmentFactory(reviewer=reviewer, proposal=proposal, state=state, due_at=now - dt.timedelta(days=3))

    late = assigned(AssignmentState.ACCEPTED)
    done = assigned(AssignmentState.ACCEPTED)
    fill_and_submit(done)
    closed = assigned(AssignmentState.CLOSED)
    client.force_login(reviewer.user)
    response = client.get(reverse("reviewer:assignments"), HTTP_ACCEPT_LANGUAGE="en")
    rows = {row.pk: row for row in response.context["assignments"]}
    assert [rows[a.pk].overdue for a in (late, done, closed)] == [True, False, False]
    html = response.content.decode().split('id="my-reviews"', 1)[1]  # the table (To do now says it too)
    assert html.count('<span class="badge badge-rejected">overdue</span>') == 1
    assert '<span class="muted">submitted</span>' in html and '<span class="muted">no longer due</span>' in html


def test_the_list_takes_the_same_number_of_queries_for_one_and_for_two_pages(client, queries, two_per_page):
    reviewer = ReviewerFactory()
    call = CallFactory()

    def assign(n):
        for _index in range(n):
            made = Assignment.objects.filter(reviewer=reviewer).count()
            proposal = eligible_proposal(call=call, unit__main_institute=reviewer.institute)
            state = AssignmentState.INVITED if made % 3 == 0 else AssignmentState.ACCEPTED
            assignment = AssignmentFactory(proposal=proposal, reviewer=reviewer, state=state)
            if made % 3 == 1:
                review_open(assignment_id=assignment.pk, user=reviewer.user, now=timezone.now())
            elif made % 3 == 2:
                fill_and_submit(assignment)

    client.force_login(reviewer.user)
    hit = lambda: client.get(reverse("reviewer:assignments"))  # noqa: E731
    # The session, the user, their roles, the count, the page's rows, the outcomes told of these rows, the
    # count of what may be read offline, the panels open to bidding, and the next actions (To do now).
    assert queries.at_sizes(assign, hit, sizes=(1, 3)) == (9, 9)
    assert len(hit().context["assignments"]) == 2
    assert queries(lambda: client.get(reverse("reviewer:assignments"), {"page": 2})) == 9
