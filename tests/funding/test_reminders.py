"""The reminders of annual reports due (domain.md, notifications: "report due −30 d, −7 d, overdue → PI"):
each step once, from 09:00 Paris time on the due date, only the latest after an outage, none once the
report is submitted or the award no longer active, in the PI's language, with what is still missing, and
the schedule in a constant number of queries.

``dispatch(now=…)`` records and sends at once (Celery runs eagerly); the worker checks with the real
clock, so awards are built from ``timezone.now()``.
"""

import datetime as dt
import functools

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from funding.domain.awards import add_months
from funding.models import Award, AwardState, Report, ReportPeriod, ReportState
from funding.reminders import report_due_moment, report_reminders
from iea import formats
from iea.formats import PARIS
from iea.notifications import domain as notifications_domain
from iea.notifications.domain import dispatch
from iea.notifications.models import Notification, NotificationState
from proposals.models import Proposal
from tests.factories import StaffFactory, UserFactory

from .factories import award_factory

pytestmark = pytest.mark.django_db

DAY = dt.timedelta(days=1)
HOUR = dt.timedelta(hours=1)


def steps(report: Report) -> list[str]:
    return list(Notification.objects.filter(kind="report_reminder", object_id=report.pk).order_by("pk")
                .values_list("occurrence", flat=True))


def year_1(award: Award) -> Report:
    return award.reports.get(period=ReportPeriod.YEAR_1)


@pytest.fixture
def award(pi):
    return award_factory(pi=pi)


@pytest.fixture
def report(award) -> Report:
    return year_1(award)


@pytest.fixture
def held(monkeypatch):
    """Rows are recorded but not handed to the worker: the test sends them with ``deliver``."""
    queued: list[int] = []
    monkeypatch.setattr(notifications_domain, "enqueue", lambda ids, **_: queued.extend(ids))
    return queued


def test_the_reminders_count_from_nine_in_the_morning_paris_time_on_the_due_date(award, report):
    due = add_months(award.start_date, 12)
    assert report_due_moment(report) == dt.datetime.combine(due, dt.time(9), tzinfo=PARIS)
    final = award.reports.get(period=ReportPeriod.FINAL)
    assert report_due_moment(final) == dt.datetime.combine(award.end_date, dt.time(9), tzinfo=PARIS)


def test_each_step_is_sent_once_in_its_window(report, pi, mailoutbox):
    due = report_due_moment(report)
    timeline = [
        (due - 30 * DAY - HOUR, []),
        (due - 30 * DAY + HOUR, ["-30d"]),
        (due - 8 * DAY, ["-30d"]),
        (due - 7 * DAY + HOUR, ["-30d", "-7d"]),
        (due + HOUR, ["-30d", "-7d"]),
        (due + DAY + HOUR, ["-30d", "-7d", "+1d"]),
        (due + 60 * DAY, ["-30d", "-7d", "+1d"]),
    ]
    for now, expected in timeline:
        dispatch(now=now)
        assert steps(report) == expected, now - due
    assert Notification.objects.get(kind="report_reminder", occurrence="-7d").due_at == due - 7 * DAY
    assert [m.to for m in mailoutbox] == [[pi.email]] * 3
    assert set(Notification.objects.values_list("state", flat=True)) == {NotificationState.SENT}


def test_the_final_report_has_its_own_steps(award, report):
    final = award.reports.get(period=ReportPeriod.FINAL)
    dispatch(now=report_due_moment(final) - 7 * DAY + HOUR)
    assert (steps(final), steps(report)) == (["-7d"], ["+1d"])


def test_after_an_outage_only_the_latest_step_is_sent(report, mailoutbox):
    dispatch(now=report_due_moment(report) + 40 * DAY)
    assert steps(report) == ["+1d"]
    assert len(mailoutbox) == 1


def test_two_ticks_record_and_send_nothing_twice(report, mailoutbox):
    now = report_due_moment(report) - 7 * DAY + HOUR
    first, second = dispatch(now=now), dispatch(now=now)
    assert (first.recorded, second.recorded, second.queued) == (1, 0, 0)
    assert steps(report) == ["-7d"]
    assert len(mailoutbox) == 1


def test_moved_award_dates_do_not_repeat_a_step_and_the_next_follows_them(award, report):
    due = report_due_moment(report)
    dispatch(now=due - 30 * DAY + HOUR)
    # The start moves ten days later: the old −7 d is the new −17 d, still in the −30 d window.
    Award.objects.filter(pk=award.pk).update(start_date=award.start_date + 10 * DAY,
                                             end_date=award.end_date + 10 * DAY)
    report.refresh_from_db()
    new_due = report_due_moment(report)
    assert new_due == due + 10 * DAY
    dispatch(now=due - 7 * DAY + HOUR)
    assert steps(report) == ["-30d"]
    dispatch(now=new_due - 7 * DAY + HOUR)
    assert steps(report) == ["-30d", "-7d"]
    assert Notification.objects.get(kind="report_reminder", occurrence="-7d").due_at == new_due - 7 * DAY


def test_award_dates_moved_later_do_not_bring_back_an_earlier_step(award, report):
    due = report_due_moment(report)
    dispatch(now=due - 7 * DAY + HOUR)
    Award.objects.filter(pk=award.pk).update(start_date=add_months(award.start_date, 2),
                                             end_date=add_months(award.end_date, 2))
    report.refresh_from_db()
    new_due = report_due_moment(report)
    dispatch(now=new_due - 30 * DAY + HOUR)
    assert steps(report) == ["-7d"]
    dispatch(now=new_due + DAY + HOUR)
    assert steps(report) == ["-7d", "+1d"]


def test_the_calls_own_steps_are_followed(award, report):
    call = award.proposal.call
    call.report_reminder_days = "-14"
    call.save(update_fields=["report_reminder_days"])
    dispatch(now=report_due_moment(report) - 20 * DAY)
    assert steps(report) == []
    dispatch(now=report_due_moment(report) - 14 * DAY + HOUR)
    assert steps(report) == ["-14d"]


def test_changes_requested_is_still_reminded(report, mailoutbox):
    Report.objects.filter(pk=report.pk).update(state=ReportState.CHANGES_REQUESTED)
    dispatch(now=report_due_moment(report) - 7 * DAY + HOUR)
    assert steps(report) == ["-7d"]
    [message] = mailoutbox
    assert "Changes were requested on it: make them and submit it again." in message.body


def _submitted(report):
    Report.objects.filter(pk=report.pk).update(state=ReportState.SUBMITTED)


def _approved(report):
    Report.objects.filter(pk=report.pk).update(state=ReportState.APPROVED)


def _suspended(report):
    Award.objects.filter(pk=report.award_id).update(state=AwardState.SUSPENDED)


@pytest.mark.parametrize("change", [_submitted, _approved, _suspended], ids=["submitted", "approved", "suspended"])
def test_nobody_is_reminded_of_a_report_no_longer_awaited(report, change, mailoutbox):
    change(report)
    dispatch(now=report_due_moment(report) + 2 * DAY)
    assert steps(report) == []
    assert mailoutbox == []


@pytest.mark.parametrize("change", [_submitted, _suspended], ids=["submitted", "suspended"])
def test_a_reminder_recorded_before_the_report_came_in_is_not_sent(report, change, held, mailoutbox):
    dispatch(now=report_due_moment(report) - 7 * DAY + HOUR)
    assert steps(report) == ["-7d"]
    change(report)
    result = notifications_domain.deliver(held)
    assert (result.sent, result.skipped) == (0, 1)
    assert Notification.objects.get(kind="report_reminder").state == NotificationState.SKIPPED
    assert mailoutbox == []


# The mail -------------------------------------------------------------------------------------------------


def test_the_reminder_says_which_report_when_and_what_is_missing_with_the_awards_link(award, report, mailoutbox):
    Proposal.objects.filter(pk=award.proposal_id).update(title="Storms & <coasts>")
    dispatch(now=report_due_moment(report) - 30 * DAY + HOUR)
    [message] = mailoutbox
    reference = award.proposal.reference
    due = add_months(award.start_date, 12)
    when = formats.date(due, language="en")
    assert message.subject == f"The Year 1 report of {reference} is due on {when}"
    assert f"The Year 1 report of your project {reference} “Storms & <coasts>” is due on {when}." in message.body
    assert "Still missing:\n- the scientific review (text or PDF)\n- the spending by category\n" in message.body
    url = settings.SITE_URL + reverse("funding:award", kwargs={"pk": award.pk})
    assert url in message.body
    html = message.alternatives[0][0]
    assert f'href="{url}"' in html
    assert "“Storms &amp; &lt;coasts&gt;”" in html  # escaped in HTML only


def test_an_overdue_report_is_called_overdue(pi, mailoutbox):
    """An award that started 13 months ago: its year-1 report was due a month ago."""
    award = award_factory(pi=pi, now=timezone.now() - 14 * 31 * DAY)
    report = year_1(award)
    assert report_due_moment(report) < timezone.now() - DAY
    dispatch(now=timezone.now())
    assert steps(report) == ["+1d"]
    [message] = mailoutbox
    assert message.subject == f"The Year 1 report of {award.proposal.reference} is overdue"
    assert "is overdue." in message.body


def test_the_reminder_is_in_the_pis_language(rendered_mails, mailoutbox):
    french_pi = UserFactory(email="chercheuse@cnrs.example.fr", full_name="Claire Martin", language="fr")
    report = year_1(award_factory(pi=french_pi))
    dispatch(now=report_due_moment(report) - 7 * DAY + HOUR)
    assert rendered_mails == [("report_reminder", "fr")]
    [message] = mailoutbox
    assert message.to == ["chercheuse@cnrs.example.fr"]
    assert message.body.startswith("Bonjour Claire Martin,")  # the salutation is already in the catalogue


# Queries --------------------------------------------------------------------------------------------------


def test_the_schedule_runs_a_constant_number_of_queries(queries):
    staff = StaffFactory()
    awards = []

    @functools.cache
    def now():  # a week before the first award's report is due, read once (by the warm-up call)
        return report_due_moment(year_1(awards[0])) - 7 * DAY + HOUR

    assert queries.at_sizes(lambda n: awards.extend(award_factory(staff=staff) for _ in range(n)),
                            lambda: report_reminders(now()), sizes=(3, 30)) == (1, 1)
    assert len(list(report_reminders(now()))) == 30
