"""The reminders of annual reports due, and of an award still to accept (domain.md, notifications: "report due −30 d, −7 d, overdue → PI").

``report_reminder`` goes to the award's PI at each step of the call's ``report_reminder_days`` relative to
the report's due date (``report_due``: 12 months after the start for year 1, the end date for the final
report), at 09:00 Paris time, while the report can still be written (draft, or changes requested) and
the award is active. Reports exist from the award's creation (``award_create``), so every report of an
active award is a candidate.

The schedule reads the candidates in one query whatever their number and works out the step in Python
(the due date is computed from the award's dates, so moving them moves the reminders); a step already on
record is not repeated.
"""

import datetime as dt

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from iea.formats import PARIS
from iea.notifications.kinds import (
    Due,
    Kind,
    Recipient,
    current_step,
    parse_offsets,
    register,
    schedule,
    step_label,
)

from .domain.reports import report_due, report_missing
from .models import EDITABLE_REPORT_STATES, EDITABLE_REPORTS, Award, AwardState, Report, ReportState

# The reminders of a report due on a day go out from this time of the morning, Paris time.
REMINDER_TIME = dt.time(9, 0)


def report_due_moment(report: Report) -> dt.datetime:
    """The moment the reminders count from: 09:00 Paris time on the report's due date."""
    return dt.datetime.combine(report_due(report.award, report.period), REMINDER_TIME, tzinfo=PARIS)


def _skip(report: Report, notification, now: dt.datetime) -> str:
    if report.editable:
        return ""
    if report.state not in EDITABLE_REPORT_STATES:
        return _("The report was submitted.")
    return _("The award is no longer active.")


def _context(report: Report, notification) -> dict:
    """What the report still lacks is read when the mail goes out, and whether it is already late."""
    due = report_due(report.award, report.period)
    return {"report": report, "award": report.award, "proposal": report.award.proposal, "due": due,
            "late": timezone.localdate() > due, "missing": report_missing(report),
            "changes_requested": report.state == ReportState.CHANGES_REQUESTED,
            "url": reverse("funding:award", kwargs={"pk": report.award_id})}


register(Kind(name="report_reminder", label=_("Reminder: annual report due"), template="report_reminder",
              model=Report, select_related=("award__proposal__pi",), context=_context, skip=_skip))


@schedule
def report_reminders(now: dt.datetime):
    """−30/−7 days before each report's due date, and the day after it, to the PI."""
    reports = Report.objects.filter(EDITABLE_REPORTS).select_related(
        "award__proposal__pi", "award__proposal__call")
    offsets_of: dict[int, list[int]] = {}
    for report in reports:
        call = report.award.proposal.call
        if call.pk not in offsets_of:
            offsets_of[call.pk] = parse_offsets(call.report_reminder_days)
        step = current_step(offsets_of[call.pk], report_due_moment(report), now)
        if step is None:
            continue
        offset, moment = step
        yield report_reminder_due(report, occurrence=step_label(offset), due_at=moment)


def report_reminder_due(report: Report, *, occurrence: str, due_at: dt.datetime) -> Due:
    """The reminder of one report due, to the award's PI."""
    return Due(kind="report_reminder", target=report, recipients=[Recipient.of(report.award.proposal.pi)],
               occurrence=occurrence, due_at=due_at)


def report_reminder_dues(reports, now: dt.datetime) -> list[Due]:
    """The reminders of these reports, sent now by hand (``remind_now`` sets the occurrence)."""
    return [report_reminder_due(report, occurrence="", due_at=now) for report in reports]


# --- An award still to accept (funding.domain.acceptance) -----------------------------------------------------

# One reminder, this many days before the time to accept an award ends.
ACCEPTANCE_REMINDER_DAYS = 7


def _acceptance_skip(award: Award, notification, now: dt.datetime) -> str:
    return "" if award.state == AwardState.AWAITING else _("The PI answered.")


register(Kind(
    name="award_acceptance_reminder", label=_("Reminder: award to accept"), template="award_acceptance_reminder",
    model=Award, select_related=("proposal__pi", "proposal__call", "unit"), skip=_acceptance_skip,
    context=lambda award, n: {"award": award, "proposal": award.proposal,
                              "url": reverse("funding:award", kwargs={"pk": award.pk})},
))


@schedule
def award_acceptance_reminders(now: dt.datetime):
    """Once, a week before the time to accept ends, to the PI of an award still awaiting the answer."""
    window = dt.timedelta(days=ACCEPTANCE_REMINDER_DAYS)
    awards = Award.objects.filter(state=AwardState.AWAITING, accept_by__gt=now, accept_by__lte=now + window)
    for award in awards.select_related("proposal__pi"):
        step = current_step([-ACCEPTANCE_REMINDER_DAYS], award.accept_by, now)
        if step is None:
            continue
        offset, moment = step
        yield award_acceptance_reminder_due(award, occurrence=step_label(offset), due_at=moment)


def award_acceptance_reminder_due(award: Award, *, occurrence: str, due_at: dt.datetime) -> Due:
    """The reminder of one award to accept, to its PI."""
    return Due(kind="award_acceptance_reminder", target=award, recipients=[Recipient.of(award.proposal.pi)],
               occurrence=occurrence, due_at=due_at)


def award_acceptance_reminder_dues(awards, now: dt.datetime) -> list[Due]:
    """The reminders of these awards, sent now by hand (``remind_now`` sets the occurrence)."""
    return [award_acceptance_reminder_due(award, occurrence="", due_at=now) for award in awards]
