"""A reminder sent now, by hand (``iea.notifications.domain.remind_now``): the kind's own message to each
recipient its kind would still send, with the occurrence ``manual-<YYYYMMDDTHHMM>``, an audit entry per object;
the schedule's steps ignore ``manual-`` occurrences; and the three admin actions (assignments, reports, awards)
with their confirmation listing recipient, address, language and skip reasons."""

import datetime as dt
import html
import re
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from funding.models import Award, AwardState, ReportPeriod, ReportState
from iea.audit.models import AuditEntry
from iea.notifications.domain import (
    NotificationError,
    dispatch,
    manual_occurrence,
    remind_now,
)
from iea.notifications.kinds import occurrence_label, parse_step
from iea.notifications.models import Notification
from reviews.models import AssignmentState, Review, ReviewState
from reviews.reminders import review_reminder_dues
from tests.factories import StaffFactory, UserFactory
from tests.funding.admin_factories import make_award, report, set_report_state
from tests.reviews.factories import AssignmentFactory

pytestmark = pytest.mark.django_db

DAY = dt.timedelta(days=1)
NOW = dt.datetime(2026, 12, 6, 15, 42, 30, tzinfo=dt.UTC)


def reminders(kind: str) -> list[tuple[str, str]]:
    return list(Notification.objects.filter(kind=kind).order_by("pk").values_list("occurrence", "email"))


@pytest.fixture
def waiting():
    """Two accepted assignments due in ten days, one of them with its review in."""
    Notification.objects.all().delete()
    due = timezone.now() + 10 * DAY
    first, done = AssignmentFactory(due_at=due), AssignmentFactory(due_at=due)
    Review.objects.create(assignment=done, proposal=done.proposal, reviewer=done.reviewer, state=ReviewState.SUBMITTED,
                          created_at=NOW, updated_at=NOW, submitted_at=NOW)
    Notification.objects.all().delete()
    return first, done


def test_the_occurrence_is_manual_and_the_minute_in_utc():
    assert manual_occurrence(NOW) == "manual-20261206T1542"
    assert manual_occurrence(NOW.astimezone(dt.timezone(dt.timedelta(hours=1)))) == "manual-20261206T1542"
    assert parse_step("manual-20261206T1542") is None
    assert occurrence_label("manual-20261206T1542").startswith("sent by hand on ")


def test_the_reminder_goes_to_those_still_awaited_and_is_audited(waiting, staff):
    first, done = waiting
    plan = remind_now(dues=review_reminder_dues([first, done], NOW), user=staff, now=NOW)
    assert [(p.due.target.pk, p.skipped) for p in plan] == [(first.pk, ""), (done.pk, "The review was submitted.")]
    assert reminders("review_reminder") == [("manual-20261206T1542", first.reviewer.user.email)]
    entry = AuditEntry.objects.get(action="notification.remind")
    assert (entry.object_id, entry.actor_id, entry.data) == (str(first.pk), staff.pk, {
        "kind": "review_reminder", "occurrence": "manual-20261206T1542", "emails": [first.reviewer.user.email]})


def test_the_same_click_twice_in_a_minute_records_nothing_twice(waiting, staff):
    first, _done = waiting
    remind_now(dues=review_reminder_dues([first], NOW), user=staff, now=NOW)
    remind_now(dues=review_reminder_dues([first], NOW), user=staff, now=NOW + dt.timedelta(seconds=20))
    assert len(reminders("review_reminder")) == 1
    remind_now(dues=review_reminder_dues([first], NOW), user=staff, now=NOW + dt.timedelta(minutes=1))
    assert len(reminders("review_reminder")) == 2


def test_only_staff_send_reminders_by_hand(waiting):
    with pytest.raises(NotificationError):
        remind_now(dues=review_reminder_dues([waiting[0]], NOW), user=UserFactory(), now=NOW)
    assert reminders("review_reminder") == []


def test_the_schedule_ignores_manual_occurrences(waiting, staff):
    """A reminder sent by hand neither counts as a step nor holds the next step back."""
    first, _done = waiting
    remind_now(dues=review_reminder_dues([first], NOW), user=staff, now=timezone.now())
    dispatch(now=first.due_at - 7 * DAY + dt.timedelta(hours=1))
    dispatch(now=first.due_at - 2 * DAY + dt.timedelta(hours=1))
    occurrences = [occurrence for occurrence, _email in reminders("review_reminder")]
    assert occurrences[0].startswith("manual-") and occurrences[1:] == ["-7d", "-2d"]


# The admin actions ------------------------------------------------------------------------------------------------


def act(client, changelist: str, objects, **data):
    return client.post(reverse(changelist), {"action": "remind_now", "_selected_action": [o.pk for o in objects],
                                             **data})


def rows(response) -> list[list[str]]:
    table = response.content.decode().split('id="action-objects"')[1].split("</table>")[0]
    return [[html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", cell)).strip())
             for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]
            for row in re.findall(r"<tr[^>]*>(.*?)</tr>", table, re.S)]


def test_the_assignments_confirmation_lists_recipient_address_language_and_skips(signed_in, waiting):
    first, done = waiting
    first.reviewer.user.__class__.objects.filter(pk=first.reviewer.user.pk).update(full_name="Rita Reviewer",
                                                                                  language="fr")
    done.reviewer.user.__class__.objects.filter(pk=done.reviewer.user.pk).update(language="en")
    page = act(signed_in, "admin:reviews_assignment_changelist", [first, done])
    assert page.status_code == 200
    assert rows(page)[0] == ["Item", "Address and language", "Message"]
    body = sorted(rows(page)[1:])
    first.refresh_from_db()
    done.refresh_from_db()
    assert body == sorted([
        [f"{first} — Rita Reviewer", f"{first.reviewer.user.email} · French", "Reminder: review due"],
        [f"{done} — {done.reviewer.user.full_name or done.reviewer.user.email}",
         f"{done.reviewer.user.email} · English",
         "refused: The review was submitted."],
    ])
    assert reminders("review_reminder") == []
    assert act(signed_in, "admin:reviews_assignment_changelist", [first, done], apply="1").status_code == 302
    assert [email for _occurrence, email in reminders("review_reminder")] == [first.reviewer.user.email]


def test_the_reports_and_awards_actions_send_their_kind(signed_in, staff):
    Notification.objects.all().delete()
    active = make_award(user=staff)
    awaiting = make_award(user=staff, amount=Decimal(11000))
    Award.objects.filter(pk=awaiting.pk).update(state=AwardState.AWAITING, accepted_at=None)
    submitted = set_report_state(active, ReportPeriod.FINAL, ReportState.SUBMITTED)
    Notification.objects.all().delete()
    act(signed_in, "admin:funding_report_changelist", [report(active), submitted], apply="1")
    assert [email for _occurrence, email in reminders("report_reminder")] == [active.proposal.pi.email]
    page = act(signed_in, "admin:funding_award_changelist", [awaiting, active])
    assert sorted(row[2] for row in rows(page)[1:]) == ["Reminder: award to accept", "refused: The PI answered."]
    act(signed_in, "admin:funding_award_changelist", [awaiting, active], apply="1")
    assert [email for _occurrence, email in reminders("award_acceptance_reminder")] == [awaiting.proposal.pi.email]


def test_the_confirmation_query_count_does_not_grow(signed_in, queries):
    assignments = []
    assert queries.at_sizes(lambda n: assignments.extend(AssignmentFactory() for _ in range(n)),
                            lambda: act(signed_in, "admin:reviews_assignment_changelist", assignments)) == (10, 10)


@pytest.mark.parametrize("changelist", ["admin:reviews_assignment_changelist", "admin:funding_report_changelist",
                                        "admin:funding_award_changelist"])
def test_who_may_send_a_reminder_now(client, staff, changelist):
    award = make_award(user=staff)
    assignment = AssignmentFactory(state=AssignmentState.ACCEPTED)
    objects = {"admin:reviews_assignment_changelist": [assignment], "admin:funding_report_changelist": [report(award)],
               "admin:funding_award_changelist": [award]}[changelist]
    viewer = StaffFactory(is_superuser=False)
    viewer.user_permissions.add(*Permission.objects.filter(codename__in=["view_assignment", "view_report",
                                                                         "view_award"]))
    before = Notification.objects.count()
    for user in (None, award.proposal.pi, assignment.reviewer.user, viewer):
        client.logout()
        if user is not None:
            client.force_login(user)
        for data in ({}, {"apply": "1"}):
            response = act(client, changelist, objects, **data)
            if user is viewer:  # the action is not offered to them: back to the list, nothing listed
                assert b'id="action-objects"' not in response.content
            else:
                assert response.status_code == 302 and "/login/" in response["Location"]
    assert Notification.objects.count() == before
    client.force_login(staff)
    assert act(client, changelist, objects).status_code == 200


def _drafts(call, n: int = 1):
    from tests.factories import ProposalFactory

    return [ProposalFactory(call=call, complete=True) for _ in range(n)]


def test_the_proposals_action_reminds_each_pi_of_what_is_missing(signed_in, call):
    from proposals import domain as proposals_domain
    from proposals.letters import check_pdf
    from proposals.models import Proposal, ProposalState
    from tests.pdfs import pdf_upload

    Notification.objects.all().delete()
    no_letter, with_letter, submitted = _drafts(call, 3)
    proposals_domain.letter_attach(proposal_id=with_letter.pk, pdf=check_pdf(pdf_upload()), now=timezone.now(),
                                   user=with_letter.pi)
    Proposal.objects.filter(pk=submitted.pk).update(state=ProposalState.SUBMITTED)
    Notification.objects.all().delete()
    page = act(signed_in, "admin:proposals_proposal_changelist", [no_letter, with_letter, submitted])
    assert page.status_code == 200
    messages = {row[0].split(" — ")[0]: row[2] for row in rows(page)[1:]}
    assert messages == {
        str(no_letter): "Reminder: support letter missing",
        str(with_letter): "Reminder: proposal not submitted",
        str(submitted): "refused: The proposal was submitted or withdrawn.",
    }
    assert Notification.objects.count() == 0  # nothing before the confirmation
    act(signed_in, "admin:proposals_proposal_changelist", [no_letter, with_letter, submitted], apply="1")
    assert [email for _o, email in reminders("letter_reminder")] == [no_letter.pi.email]
    assert [email for _o, email in reminders("draft_reminder")] == [with_letter.pi.email]
    assert AuditEntry.objects.filter(action="notification.remind").count() == 2


def test_the_proposals_confirmation_costs_the_same_queries_for_one_or_three(signed_in, call, queries):
    proposals = []
    assert queries.at_sizes(lambda n: proposals.extend(_drafts(call, n)),
                            lambda: act(signed_in, "admin:proposals_proposal_changelist", proposals)) == (12, 12)


def test_who_may_remind_pis(client, staff, call):
    [proposal] = _drafts(call)
    viewer = StaffFactory(is_superuser=False)
    viewer.user_permissions.add(Permission.objects.get(codename="view_proposal"))
    for user in (None, proposal.pi, viewer):
        client.logout()
        if user is not None:
            client.force_login(user)
        for data in ({}, {"apply": "1"}):
            response = act(client, "admin:proposals_proposal_changelist", [proposal], **data)
            assert b'id="action-objects"' not in response.content
    assert not Notification.objects.filter(kind__in=["draft_reminder", "letter_reminder"],
                                           occurrence__startswith="manual-").exists()
    client.force_login(staff)
    assert b'id="action-objects"' in act(client, "admin:proposals_proposal_changelist", [proposal]).content
