"""The outcome told to the reviewers (issue #20): when the call says so, after the decision mails, a reviewer
who submitted a review sees the outcome and the panel's consensus on their list, and gets one digest per
batch of decisions, in their language, once; nothing when the setting is off, before the mails, for a
review not submitted, or after a conflict. The list's query count at two sizes."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from funding.domain.decisions import decision_set, decisions_announce
from iea.audit.models import AuditEntry
from iea.notifications.models import Notification, NotificationState
from reviews.domain.outcome import outcome_notify_reviewers, outcomes_by_assignment
from reviews.models import Assignment, AssignmentState, Conflict, Decision, PanelRecommendation, ReviewState
from tests.factories import InstituteFactory, activate_totp
from tests.reviews.staff_factories import closed_call, make_review, make_reviewer, ranked_proposal

pytestmark = pytest.mark.django_db

NBSP = "\N{NO-BREAK SPACE}"


def decide(proposal, staff, outcome, amount=None):
    decision_set(proposal_id=proposal.pk, user=staff, outcome=outcome,
                 amount=None if amount is None else Decimal(amount), now=timezone.now(),
                 override_reason="Decided with the reviews at hand.")


def reviewer_of(proposal, n=0):
    """The user behind the ``n``-th submitted review of ``ranked_proposal`` (made with TOTP for the pages)."""
    assignment = Assignment.objects.filter(proposal=proposal).select_related("reviewer__user").order_by("pk")[n]
    activate_totp(assignment.reviewer.user)
    return assignment.reviewer.user


def set_consensus(proposal, text):
    PanelRecommendation.objects.filter(proposal=proposal).update(consensus=text)


def outcome_rows():
    return list(Notification.objects.filter(kind="review_outcome").order_by("email"))


@pytest.fixture
def call():
    return closed_call(outcome_to_reviewers=True)


@pytest.fixture
def decided(call, staff):
    """Two proposals of one institute, the same two reviewers on both, decided, not yet mailed."""
    institute = InstituteFactory()
    first = ranked_proposal(call, institute=institute, reviews=2)
    second = ranked_proposal(call, institute=institute, rank=2, reviews=0)
    for assignment in Assignment.objects.filter(proposal=first).select_related("reviewer"):
        make_review(second, assignment.reviewer, scores=[3] * 6)
    set_consensus(first, "Ambitious and well argued.")
    set_consensus(second, "")
    decide(first, staff, "selected", "12000")
    decide(second, staff, "reserve")
    return first, second


def announce(call, staff, capture, now=None):
    with capture(execute=True):
        return decisions_announce(call_id=call.pk, user=staff, now=now or timezone.now())


# --- The mail ------------------------------------------------------------------------------------------------


def test_each_reviewer_gets_one_digest_of_the_batch_after_the_decision_mails(
        call, staff, decided, django_capture_on_commit_callbacks, mailoutbox):
    first, second = decided
    reviewers = sorted(Assignment.objects.filter(proposal=first).values_list("reviewer__user__email", flat=True))
    assert announce(call, staff, django_capture_on_commit_callbacks) == 2
    digests = outcome_rows()
    assert [(row.email, row.state, sorted(row.params["proposals"])) for row in digests] == [
        (email, NotificationState.SENT, sorted([first.pk, second.pk])) for email in reviewers]
    decision_ids = set(Notification.objects.filter(kind="decision").values_list("pk", flat=True))
    assert min(row.pk for row in digests) > max(decision_ids)  # recorded after the decision mails
    assert digests[0].occurrence == Decision.objects.get(proposal=first).notified_at.isoformat()
    told = [message for message in mailoutbox if message.to[0] in reviewers]
    assert sorted(message.to[0] for message in told) == reviewers
    entries = AuditEntry.objects.filter(action="review.outcome_told")
    assert sorted((entry.data["call"], sorted(entry.data["proposals"])) for entry in entries) == [
        (call.year, sorted([first.reference, second.reference]))] * 2


def test_the_digest_in_english_gives_outcomes_and_consensus_never_the_amount(
        call, staff, decided, django_capture_on_commit_callbacks, mailoutbox):
    first, second = decided
    user = reviewer_of(first)
    user.language = "en"
    user.save(update_fields=["language"])
    announce(call, staff, django_capture_on_commit_callbacks)
    message = next(m for m in mailoutbox if m.to == [user.email])
    assert message.subject == f"The outcome of the 2 proposals you reviewed ({call.title_en})"
    body = message.body
    assert f"{first.reference} {first.acronym} — {first.title}\nOutcome: Selected\nThe panel's consensus:\n" \
           "Ambitious and well argued." in body
    assert f"{second.reference} {second.acronym} — {second.title}\nOutcome: Reserve list\n" \
           "The panel wrote no consensus summary." in body
    assert "12" + "000" not in body.replace(NBSP, "").replace(",", "").replace(" ", "")
    assert "€" not in body
    assert reverse("reviewer:assignments") in body
    html = message.alternatives[0][0]
    assert "<strong>Selected</strong>" in html and "Ambitious and well argued." in html


def test_the_digest_in_french_with_a_long_consensus(call, staff, django_capture_on_commit_callbacks, mailoutbox):
    proposal = ranked_proposal(call, reviews=1)
    long_text = "\n\n".join(f"Paragraphe {n} : une évaluation détaillée du projet." for n in range(1, 41))
    set_consensus(proposal, long_text)
    decide(proposal, staff, "rejected")
    user = reviewer_of(proposal)
    user.language = "fr"
    user.save(update_fields=["language"])
    announce(call, staff, django_capture_on_commit_callbacks)
    message = next(m for m in mailoutbox if m.to == [user.email])
    assert message.subject == f"Le résultat de la proposition que vous avez évaluée ({call.title_fr})"
    assert f"Résultat{NBSP}: Non retenue" in message.body
    assert "Paragraphe 1 : une évaluation" in message.body and "Paragraphe 40 : une évaluation" in message.body
    assert f"La synthèse du comité{NBSP}:" in message.body


def test_a_french_digest_without_consensus_says_so(call, staff, django_capture_on_commit_callbacks, mailoutbox):
    proposal = ranked_proposal(call, reviews=1)
    decide(proposal, staff, "selected", "11000")
    user = reviewer_of(proposal)
    user.language = "fr"
    user.save(update_fields=["language"])
    announce(call, staff, django_capture_on_commit_callbacks)
    message = next(m for m in mailoutbox if m.to == [user.email])
    assert "Le comité n'a pas rédigé de synthèse." in message.body
    assert "11" + "000" not in message.body.replace(NBSP, "").replace("\N{NARROW NO-BREAK SPACE}", "")


def test_never_twice(call, staff, decided, django_capture_on_commit_callbacks, mailoutbox):
    first, _second = decided
    announce(call, staff, django_capture_on_commit_callbacks)
    sent = len(mailoutbox)
    assert announce(call, staff, django_capture_on_commit_callbacks) == 0
    ids = list(Decision.objects.values_list("pk", flat=True))
    with django_capture_on_commit_callbacks(execute=True):
        assert outcome_notify_reviewers(decision_ids=ids, user=staff, now=timezone.now()) == 0
    assert (len(outcome_rows()), len(mailoutbox)) == (2, sent)
    assert AuditEntry.objects.filter(action="review.outcome_told").count() == 2


def test_a_reserve_promoted_later_is_a_digest_of_its_own(
        call, staff, decided, django_capture_on_commit_callbacks, mailoutbox):
    from funding.domain.reserve import reserve_promote  # noqa: PLC0415 -- the promotion's own test, here

    first, second = decided
    announce(call, staff, django_capture_on_commit_callbacks)
    user = reviewer_of(second)
    user.language = "en"
    user.save(update_fields=["language"])
    with django_capture_on_commit_callbacks(execute=True):
        reserve_promote(proposal_id=second.pk, user=staff, amount=Decimal(10000),
                        now=timezone.now() + dt.timedelta(days=20), override_reason="Next on the list.")
    rows = sorted((row for row in outcome_rows() if row.email == user.email), key=lambda row: row.pk)
    assert [row.params["proposals"] for row in rows] == [[first.pk, second.pk], [second.pk]]
    last = [m for m in mailoutbox if m.to == [user.email]][-1]
    assert last.subject == f"The outcome of the proposal you reviewed ({call.title_en})"
    assert f"{second.reference} {second.acronym} — {second.title}\nOutcome: Selected\n" in last.body


def test_the_call_admin_offers_the_setting(signed_in, call):
    page = signed_in.get(reverse("admin:calls_call_change", args=[call.pk]))
    assert b'name="outcome_to_reviewers"' in page.content
    assert "After the decision mails, reviewers see the outcome" in page.content.decode()


def test_the_setting_off_sends_nothing(staff, django_capture_on_commit_callbacks, mailoutbox):
    call = closed_call(outcome_to_reviewers=False)
    proposal = ranked_proposal(call, reviews=2)
    decide(proposal, staff, "selected", "12000")
    announce(call, staff, django_capture_on_commit_callbacks)
    assert outcome_rows() == []
    assert AuditEntry.objects.filter(action="review.outcome_told").count() == 0
    assert {m.to[0] for m in mailoutbox} == {proposal.pi.email, proposal.partner_email}


def test_only_reviewers_who_submitted_and_are_not_in_conflict(call, staff, django_capture_on_commit_callbacks):
    proposal = ranked_proposal(call, reviews=2)
    institute = proposal.institute
    drafting = make_reviewer(institute, name="Drafting", email="drafting@example.org")
    make_review(proposal, drafting, scores=[4] * 6, state=ReviewState.DRAFT)
    declined = make_reviewer(institute, name="Declined", email="declined@example.org")
    Assignment.objects.create(panel=Assignment.objects.filter(proposal=proposal).first().panel, proposal=proposal,
                              reviewer=declined, state=AssignmentState.DECLINED, due_at=timezone.now(),
                              created_at=timezone.now())
    conflicted = Assignment.objects.filter(proposal=proposal).order_by("pk").select_related("reviewer").first()
    Conflict.objects.create(proposal=proposal, reviewer=conflicted.reviewer, source="officer", cause="officer",
                            created_at=timezone.now())
    decide(proposal, staff, "rejected")
    announce(call, staff, django_capture_on_commit_callbacks)
    kept = Assignment.objects.filter(proposal=proposal).order_by("pk")[1]
    assert [row.email for row in outcome_rows()] == [kept.reviewer.user.email]


def test_a_conflict_found_before_delivery_drops_the_message(call, staff, decided):
    first, second = decided
    decisions_announce(call_id=call.pk, user=staff, now=timezone.now())  # recorded, not delivered
    assignment = Assignment.objects.filter(proposal=first).select_related("reviewer").order_by("pk").first()
    for proposal in (first, second):
        Conflict.objects.create(proposal=proposal, reviewer=assignment.reviewer, source="officer", cause="officer",
                                created_at=timezone.now())
    from iea.notifications.domain import deliver  # noqa: PLC0415 -- the outbox's worker step, tested here

    row = Notification.objects.get(kind="review_outcome", email=assignment.reviewer.user.email)
    deliver([row.pk], now=timezone.now())
    row.refresh_from_db()
    assert row.state == NotificationState.SKIPPED


# --- The page ------------------------------------------------------------------------------------------------


def test_the_list_shows_outcome_and_consensus_after_the_mails_only(call, staff, decided, client):
    first, second = decided
    user = reviewer_of(first)
    client.force_login(user)
    page = client.get(reverse("reviewer:assignments"), HTTP_ACCEPT_LANGUAGE="en")
    assert b'data-outcome="' not in page.content and b"The panel&#x27;s consensus" not in page.content
    decisions_announce(call_id=call.pk, user=staff, now=timezone.now())
    page = client.get(reverse("reviewer:assignments"), HTTP_ACCEPT_LANGUAGE="en")
    html = page.content.decode()
    assert html.count('data-outcome="selected"') == 1 and html.count('data-outcome="reserve"') == 1
    assert "Ambitious and well argued." in html
    assert "The panel wrote no consensus summary." in html
    assert "12,000" not in html and "12000" not in html


def test_the_setting_turned_off_hides_the_outcome(call, staff, decided, client):
    first, _second = decided
    decisions_announce(call_id=call.pk, user=staff, now=timezone.now())
    call.outcome_to_reviewers = False
    call.save(update_fields=["outcome_to_reviewers"])
    user = reviewer_of(first)
    client.force_login(user)
    assert b"data-outcome" not in client.get(reverse("reviewer:assignments")).content


def test_a_reviewer_later_found_in_conflict_sees_nothing(call, staff, decided, client):
    first, second = decided
    decisions_announce(call_id=call.pk, user=staff, now=timezone.now())
    user = reviewer_of(first)
    reviewer = Assignment.objects.filter(proposal=first, reviewer__user=user).get().reviewer
    Conflict.objects.create(proposal=first, reviewer=reviewer, source="officer", cause="officer",
                            created_at=timezone.now())
    client.force_login(user)
    html = client.get(reverse("reviewer:assignments")).content.decode()
    assert first.reference not in html
    assert html.count('data-outcome="reserve"') == 1
    mine = list(Assignment.objects.filter(reviewer__user=user).values_list("pk", flat=True))
    assert [o.reference for o in outcomes_by_assignment(user=user, assignment_ids=mine).values()] == [
        second.reference]


def test_the_outcome_is_the_reviewers_own_only(call, staff, decided):
    first, _second = decided
    decisions_announce(call_id=call.pk, user=staff, now=timezone.now())
    someone_else = reviewer_of(first, 1)
    theirs = list(Assignment.objects.filter(proposal=first).exclude(reviewer__user=someone_else)
                  .values_list("pk", flat=True))
    assert outcomes_by_assignment(user=someone_else, assignment_ids=theirs) == {}
    assert outcomes_by_assignment(user=staff, assignment_ids=theirs) == {}


def test_the_list_takes_the_same_queries_with_one_and_three_outcomes(call, staff, client, queries):
    institute = InstituteFactory()
    reviewer = make_reviewer(institute, name="Reader", email="reader@example.org")
    activate_totp(reviewer.user)
    client.force_login(reviewer.user)
    made = []

    def grow(count):
        for _ in range(count):
            proposal = ranked_proposal(call, institute=institute, reviews=1, rank=len(made) + 1)
            make_review(proposal, reviewer, scores=[4] * 6)
            set_consensus(proposal, "Convincing.")
            decide(proposal, staff, "selected", "12000")
            made.append(proposal)
        decisions_announce(call_id=call.pk, user=staff, now=timezone.now() + dt.timedelta(seconds=len(made)))

    def hit():
        response = client.get(reverse("reviewer:assignments"))
        assert response.content.decode().count('data-outcome="selected"') == len(made)
        return response

    assert queries.at_sizes(grow, hit, sizes=(1, 3)) == (9, 9)  # +1 the panels open to bidding (#20 bids)
