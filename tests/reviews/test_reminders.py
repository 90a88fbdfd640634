"""The reminders of reviews due (domain.md, notifications): the reviewer at −7, −2 and +1 days from the
due date, the panel's officers at +3 days; each step once, only the latest after an outage, none once the
review is in, in the recipient's language, and each schedule in a constant number of queries.

``dispatch(now=…)`` records and sends at once (Celery runs eagerly); the worker checks with the real
clock, so due dates are built from ``timezone.now()``.
"""

import datetime as dt

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from iea.notifications import domain as notifications_domain
from iea.notifications.domain import dispatch
from iea.notifications.models import Notification, NotificationState
from proposals.models import Proposal, ProposalState
from reviews.models import Assignment, AssignmentState, Review, Reviewer, ReviewState
from reviews.reminders import overdue_reviews, review_reminders
from tests.factories import CallFactory, ProposalFactory, UserFactory

from .factories import AssignmentFactory, PanelFactory, ReviewerFactory

pytestmark = pytest.mark.django_db

DAY = dt.timedelta(days=1)
HOUR = dt.timedelta(hours=1)


def rows(kind: str, assignment=None) -> list[tuple[str, str]]:
    """(occurrence, e-mail) of the messages of a kind on record, oldest first."""
    query = Notification.objects.filter(kind=kind)
    if assignment is not None:
        query = query.filter(object_id=assignment.pk)
    return list(query.order_by("pk").values_list("occurrence", "email"))


def mails_to(mailoutbox, email: str) -> list:
    return [message for message in mailoutbox if message.to == [email]]


def submit_review(assignment) -> Review:
    now = timezone.now()
    return Review.objects.create(assignment=assignment, proposal=assignment.proposal, reviewer=assignment.reviewer,
                                 state=ReviewState.SUBMITTED, created_at=now, updated_at=now, submitted_at=now)


def _with_officer(assignment, officer):
    """The reviewer is Rita Reviewer; the panel is run by ``officer``. The receipt of the proposal's
    submission, recorded by the factory, is dropped: these tests read the reminders only."""
    Notification.objects.all().delete()
    user = assignment.reviewer.user
    user.full_name = "Rita Reviewer"
    user.save(update_fields=["full_name"])
    assignment.panel.officers.add(officer)
    return assignment


@pytest.fixture
def officer():
    return UserFactory(email="officer@cnrs.example.fr", full_name="Olga Officer")


@pytest.fixture
def assignment(officer):
    """Accepted, due in ten days, the panel run by ``officer``."""
    return _with_officer(AssignmentFactory(due_at=timezone.now() + 10 * DAY), officer)


@pytest.fixture
def late(officer):
    """Accepted three weeks ago, due a day and an hour ago."""
    now = timezone.now()
    return _with_officer(AssignmentFactory(due_at=now - DAY - HOUR, created_at=now - 21 * DAY), officer)


@pytest.fixture
def held(monkeypatch):
    """Rows are recorded but not handed to the worker: the test sends them with ``deliver``."""
    queued: list[int] = []
    monkeypatch.setattr(notifications_domain, "enqueue", lambda ids, **_: queued.extend(ids))
    return queued


# The steps ------------------------------------------------------------------------------------------------


def test_each_step_is_sent_once_in_its_window(assignment, mailoutbox):
    due, email = assignment.due_at, assignment.reviewer.user.email
    timeline = [
        (due - 7 * DAY - HOUR, []),
        (due - 7 * DAY + HOUR, ["-7d"]),
        (due - 3 * DAY, ["-7d"]),
        (due - 2 * DAY + HOUR, ["-7d", "-2d"]),
        (due + HOUR, ["-7d", "-2d"]),
        (due + DAY + HOUR, ["-7d", "-2d", "+1d"]),
        (due + 2 * DAY + HOUR, ["-7d", "-2d", "+1d"]),
    ]
    for now, expected in timeline:
        dispatch(now=now)
        assert rows("review_reminder") == [(step, email) for step in expected], now - due
    assert Notification.objects.get(kind="review_reminder", occurrence="-2d").due_at == due - 2 * DAY
    assert [m.subject for m in mailoutbox] == [f"Your review of {assignment.proposal.reference} is due in 1\N{NO-BREAK SPACE}week, 2\N{NO-BREAK SPACE}days"] * 3
    assert set(Notification.objects.values_list("state", flat=True)) == {NotificationState.SENT}


def test_after_an_outage_only_the_latest_step_is_sent(assignment, mailoutbox):
    dispatch(now=assignment.due_at + DAY + HOUR)
    assert rows("review_reminder") == [("+1d", assignment.reviewer.user.email)]
    assert len(mailoutbox) == 1


def test_two_ticks_record_and_send_nothing_twice(assignment, mailoutbox):
    now = assignment.due_at - 2 * DAY + HOUR
    first, second = dispatch(now=now), dispatch(now=now)
    assert (first.recorded, second.recorded, second.queued) == (1, 0, 0)
    assert rows("review_reminder") == [("-2d", assignment.reviewer.user.email)]
    assert len(mailoutbox) == 1


def test_a_moved_due_date_does_not_repeat_a_step_and_the_next_follows_it(assignment):
    due = assignment.due_at
    dispatch(now=due - 7 * DAY + HOUR)
    Assignment.objects.filter(pk=assignment.pk).update(due_at=due + 5 * DAY)
    new_due = due + 5 * DAY
    dispatch(now=due - 2 * DAY + HOUR)  # the old −2 d: still the −7 d window of the new date
    assert [step for step, _email in rows("review_reminder")] == ["-7d"]
    dispatch(now=new_due - 2 * DAY + HOUR)
    assert [step for step, _email in rows("review_reminder")] == ["-7d", "-2d"]
    assert Notification.objects.get(kind="review_reminder", occurrence="-2d").due_at == new_due - 2 * DAY


def test_a_due_date_moved_later_does_not_bring_back_an_earlier_step(assignment):
    due = assignment.due_at
    dispatch(now=due - 2 * DAY + HOUR)
    Assignment.objects.filter(pk=assignment.pk).update(due_at=due + 14 * DAY)
    dispatch(now=due + 7 * DAY + HOUR)  # the new date's −7 d window
    assert [step for step, _email in rows("review_reminder")] == ["-2d"]
    dispatch(now=due + 15 * DAY + HOUR)
    assert [step for step, _email in rows("review_reminder")] == ["-2d", "+1d"]


def test_a_step_begun_before_the_invitation_is_not_sent(officer):
    """Invited five days before the due date: the invitation said it; the −2 d reminder follows."""
    now = timezone.now()
    assignment = AssignmentFactory(due_at=now + 5 * DAY, created_at=now, state=AssignmentState.INVITED)
    dispatch(now=now + HOUR)
    assert rows("review_reminder") == []
    dispatch(now=assignment.due_at - 2 * DAY + HOUR)
    assert [step for step, _email in rows("review_reminder")] == ["-2d"]


def test_the_calls_own_steps_are_followed(assignment):
    call = assignment.proposal.call
    call.review_reminder_days = "-3"
    call.save(update_fields=["review_reminder_days"])
    dispatch(now=assignment.due_at - 7 * DAY + HOUR)
    assert rows("review_reminder") == []
    dispatch(now=assignment.due_at - 3 * DAY + HOUR)
    assert [step for step, _email in rows("review_reminder")] == ["-3d"]


def _declined(a):
    Assignment.objects.filter(pk=a.pk).update(state=AssignmentState.DECLINED)


def _withdrawn(a):
    Assignment.objects.filter(pk=a.pk).update(state=AssignmentState.WITHDRAWN)


def _inactive(a):
    Reviewer.objects.filter(pk=a.reviewer_id).update(active=False)


def _decided(a):
    Proposal.objects.filter(pk=a.proposal_id).update(state=ProposalState.REJECTED)


@pytest.mark.parametrize("change", [submit_review, _declined, _withdrawn, _inactive, _decided],
                         ids=["submitted", "declined", "withdrawn", "reviewer-inactive", "decided"])
def test_nobody_is_reminded_of_a_review_no_longer_awaited(late, change, mailoutbox):
    change(late)
    dispatch(now=late.due_at + 5 * DAY)
    assert Notification.objects.filter(kind__in=["review_reminder", "review_overdue"]).count() == 0
    assert mailoutbox == []


def test_a_draft_review_is_still_awaited(late):
    Review.objects.create(assignment=late, proposal=late.proposal, reviewer=late.reviewer, state=ReviewState.DRAFT,
                          created_at=late.created_at, updated_at=late.created_at)
    dispatch(now=timezone.now())
    assert [step for step, _email in rows("review_reminder")] == ["+1d"]


@pytest.mark.parametrize("change", [submit_review, _withdrawn, _inactive],
                         ids=["submitted", "withdrawn", "reviewer-inactive"])
def test_a_reminder_recorded_before_the_review_came_in_is_not_sent(late, change, held, mailoutbox):
    dispatch(now=late.due_at + 3 * DAY + HOUR)
    assert sorted(Notification.objects.values_list("kind", flat=True)) == ["review_overdue", "review_reminder"]
    change(late)
    result = notifications_domain.deliver(held)
    assert (result.sent, result.skipped) == (0, 2)
    assert set(Notification.objects.values_list("state", flat=True)) == {NotificationState.SKIPPED}
    assert mailoutbox == []


# The reviewer's mail --------------------------------------------------------------------------------------


def test_the_reminder_names_the_proposal_and_the_time_left_and_links_to_the_review(assignment, mailoutbox):
    dispatch(now=assignment.due_at - 7 * DAY + HOUR)
    [message] = mailoutbox
    proposal = assignment.proposal
    assert message.to == [assignment.reviewer.user.email]
    assert f"Your review of {proposal.reference} “Coastal erosion under changing storms” is due on" in message.body
    assert "Paris time: 1\xa0week, 2\xa0days left." in message.body
    url = settings.SITE_URL + reverse("reviewer:review", kwargs={"pk": assignment.pk})
    assert url in message.body
    assert f'href="{url}"' in message.alternatives[0][0]
    assert "{%" not in message.body and "&" not in message.body  # rendered_mails, and not HTML-escaped


def test_the_title_is_the_submitted_one_not_a_later_draft(assignment, mailoutbox):
    Proposal.objects.filter(pk=assignment.proposal_id).update(title="Changed after submitting")
    dispatch(now=assignment.due_at - 7 * DAY + HOUR)
    [message] = mailoutbox
    assert "Coastal erosion under changing storms" in message.body
    assert "Changed after submitting" not in message.body


def test_an_unanswered_invitation_is_reminded_with_its_link(assignment, mailoutbox):
    Assignment.objects.filter(pk=assignment.pk).update(state=AssignmentState.INVITED)
    dispatch(now=assignment.due_at - 2 * DAY + HOUR)
    [message] = mailoutbox
    assert "You have not answered the invitation yet" in message.body
    assert settings.SITE_URL + reverse("reviewer:invitation", kwargs={"pk": assignment.pk}) in message.body


def test_a_late_review_says_how_late(late, mailoutbox):
    dispatch(now=timezone.now())
    [message] = mailoutbox
    assert message.subject == f"Your review of {late.proposal.reference} is late"
    assert "it is 1\xa0day, 1\xa0hour late." in message.body  # Django's timesince joins with no-break spaces


def test_the_reminder_is_in_the_reviewers_language(assignment, rendered_mails, mailoutbox):
    user = assignment.reviewer.user
    user.language = "fr"
    user.save(update_fields=["language"])
    dispatch(now=assignment.due_at - 7 * DAY + HOUR)
    assert rendered_mails == [("review_reminder", "fr")]
    [message] = mailoutbox
    assert message.body.startswith(f"Bonjour {user.display_name},")  # greeted by name, in French


# The officers' notice -------------------------------------------------------------------------------------


def test_the_officers_are_told_at_three_days_and_the_reviewer_is_not(late, officer, rendered_mails, mailoutbox):
    french = UserFactory(email="officier@cnrs.example.fr", language="fr")
    late.panel.officers.add(french)
    due = late.due_at
    dispatch(now=due + 3 * DAY - HOUR)
    assert rows("review_overdue") == []
    dispatch(now=due + 3 * DAY + HOUR)
    assert sorted(rows("review_overdue")) == [("+3d", "officer@cnrs.example.fr"), ("+3d", "officier@cnrs.example.fr")]
    assert Notification.objects.filter(kind="review_overdue").first().due_at == due + 3 * DAY
    assert sorted(language for name, language in rendered_mails if name == "review_overdue") == ["en", "fr"]

    reviewer_mail = mails_to(mailoutbox, late.reviewer.user.email)
    assert [m.subject for m in reviewer_mail] == [f"Your review of {late.proposal.reference} is late"]
    [message] = mails_to(mailoutbox, officer.email)
    assert message.subject == f"Late review: {late.proposal.reference}, by Rita Reviewer"
    assert f"by Rita Reviewer ({late.reviewer.user.email}) was due on" in message.body
    assert "The reviewer accepted the invitation but has not submitted the review." in message.body
    assert settings.SITE_URL + reverse("panel:table", kwargs={"panel_id": late.panel_id}) in message.body


def test_the_officers_notice_stays_due_and_goes_once(late, officer, mailoutbox):
    dispatch(now=late.due_at + 30 * DAY)  # after an outage: still told
    dispatch(now=late.due_at + 31 * DAY)
    assert rows("review_overdue") == [("+3d", officer.email)]
    assert len(mails_to(mailoutbox, officer.email)) == 1


def test_the_calls_escalation_delay_is_followed(late, officer):
    call = late.proposal.call
    call.review_escalation_days = 5
    call.save(update_fields=["review_escalation_days"])
    dispatch(now=late.due_at + 4 * DAY)
    assert rows("review_overdue") == []
    dispatch(now=late.due_at + 5 * DAY + HOUR)
    assert rows("review_overdue") == [("+5d", officer.email)]


# Queries --------------------------------------------------------------------------------------------------


def _awaited(count: int, *, due_at, created_at) -> None:
    """``count`` accepted assignments on proposals of two calls, each proposal with its own panel and
    officer (written directly: the schedules only read them)."""
    calls = [CallFactory(), CallFactory()]
    for index in range(count):
        proposal = ProposalFactory(call=calls[index % 2], complete=True)
        Proposal.objects.filter(pk=proposal.pk).update(state=ProposalState.IN_REVIEW)
        panel = PanelFactory(call=proposal.call, institute=proposal.institute)
        panel.officers.add(UserFactory())
        Assignment.objects.create(
            panel=panel, proposal=proposal, reviewer=ReviewerFactory(institute=proposal.institute, mfa=False),
            state=AssignmentState.ACCEPTED, due_at=due_at, created_at=created_at)


SCHEDULE_QUERIES = {review_reminders: (1, 1), overdue_reviews: (2, 2)}


@pytest.mark.parametrize("find_due", [review_reminders, overdue_reviews], ids=["reviewer", "officers"])
def test_each_schedule_runs_a_constant_number_of_queries(find_due, queries):
    now = timezone.now()
    build = {"due_at": now - 4 * DAY, "created_at": now - 30 * DAY}
    assert queries.at_sizes(lambda n: _awaited(n, **build), lambda: find_due(now), sizes=(3, 30)) == SCHEDULE_QUERIES[find_due]
    assert len(list(find_due(now))) == 30
