"""The personal deadline feed (.ics): what it holds for each role, who may read it, and its reset."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from funding.domain.reports import report_due
from reviews.models import Panel
from tests.factories import CallFactory, ProposalFactory, UserFactory
from tests.funding.factories import award_factory
from tests.reviews.factories import AssignmentFactory, ReviewerFactory, eligible_proposal

pytestmark = pytest.mark.django_db


def assign(user, state="accepted"):
    proposal = eligible_proposal()
    return AssignmentFactory(proposal=proposal, reviewer=ReviewerFactory(user=user, institute=proposal.institute, mfa=False),
                             state=state)


def feed(client, user):
    response = client.get(reverse("calendar_feed", args=[user.calendar_key]))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    return Calendar.from_ical(response.content)


def summaries(calendar) -> list[str]:
    return sorted(str(event["SUMMARY"]) for event in calendar.walk("VEVENT"))


def test_pi_reviewer_and_awardee_deadlines(client):
    user = UserFactory(email="many-hats@example.org")
    call = CallFactory(title_en="IEA 2099")
    draft = ProposalFactory(call=call, pi=user, complete=True)
    assignment = assign(user)
    award = award_factory(pi=user)
    calendar = feed(client, user)
    assert summaries(calendar) == sorted([
        f"Deadline of IEA 2099 for {draft.acronym}",
        f"Review of {assignment.proposal.reference} due",
        f"Year 1 report of {award.proposal.reference} due",
        f"Final report of {award.proposal.reference} due",
    ])
    deadline = next(e for e in calendar.walk("VEVENT") if "Deadline of" in str(e["SUMMARY"]))
    assert deadline["DTSTART"].dt == call.closes_at.astimezone(dt.UTC).replace(microsecond=0)


def test_the_events_are_in_date_order_and_equal_dates_keep_the_apps_order(client):
    """Each app gives its own deadlines (``<app>/next_actions.py``); the feed orders them by date, and a
    proposal's deadline comes before its panel's reviews due at the same moment."""
    user = UserFactory()
    call = CallFactory()
    draft = ProposalFactory(call=call, pi=user, complete=True)
    assignment = assign(user)
    assignment.panel.officers.add(user)
    Panel.objects.filter(pk=assignment.panel_id).update(review_due_at=call.closes_at)
    award = award_factory(pi=user)
    reports = sorted(award.reports.all(), key=lambda report: report_due(award, report.period))
    assert [str(event["UID"]).split("@")[0] for event in feed(client, user).walk("VEVENT")] == [
        f"assignment-{assignment.pk}-due", f"proposal-{draft.pk}-deadline", f"panel-{assignment.panel_id}-reviews-due",
        *(f"report-{report.pk}-due" for report in reports)]


def test_an_award_to_accept_is_a_deadline_and_a_declined_one_has_none(client):
    from funding.domain.acceptance import award_decline

    user = UserFactory(email="awardee@example.org")
    waiting = award_factory(pi=user, accepted=False)
    declined = award_factory(pi=user, accepted=False)
    award_decline(award_id=declined.pk, user=user, reason="No.", now=timezone.now())
    calendar = feed(client, user)
    assert summaries(calendar) == sorted([
        f"Accept or decline the award of {waiting.proposal.reference}",
        f"Year 1 report of {waiting.proposal.reference} due",
        f"Final report of {waiting.proposal.reference} due",
    ])
    accept = next(e for e in calendar.walk("VEVENT") if "Accept or decline" in str(e["SUMMARY"]))
    assert accept["DTSTART"].dt == waiting.accept_by.astimezone(dt.UTC)


def test_closed_calls_and_submitted_reviews_are_not_listed(client):
    user = UserFactory()
    call = CallFactory(opens_at=timezone.now() - dt.timedelta(days=9), closes_at=timezone.now() - dt.timedelta(days=1))
    ProposalFactory(call=call, pi=user, complete=True)
    assert summaries(feed(client, user)) == []


def test_an_unknown_or_reset_key_gives_nothing(client):
    user = UserFactory()
    old_key = user.calendar_key
    assert client.get(reverse("calendar_feed", args=["not-a-key"])).status_code == 404
    client.force_login(user)
    assert client.post(reverse("calendar_reset")).status_code == 302
    user.refresh_from_db()
    assert user.calendar_key != old_key
    from iea.audit.models import AuditEntry

    assert AuditEntry.objects.filter(action="account.calendar_reset", actor=user).count() == 1
    client.logout()
    assert client.get(reverse("calendar_feed", args=[old_key])).status_code == 404
    assert client.get(reverse("calendar_feed", args=[user.calendar_key])).status_code == 200


def test_each_user_has_their_own_key():
    assert UserFactory().calendar_key != UserFactory().calendar_key


def test_the_page_needs_sign_in_and_shows_the_address(client):
    user = UserFactory()
    assert client.get(reverse("calendar")).status_code == 302
    assert client.post(reverse("calendar_reset")).status_code == 302
    client.force_login(user)
    body = client.get(reverse("calendar")).content.decode()
    assert user.calendar_key in body


def test_feed_query_count_does_not_grow(client, queries):
    user = UserFactory()
    ProposalFactory(call=CallFactory(), pi=user, complete=True)

    def more(n):
        for _ in range(n):
            assign(user)
            award_factory(pi=user)

    assert queries.at_sizes(more, lambda: feed(client, user), sizes=(1, 4)) == (6, 6)
