"""The funding's next actions (``iea.next_actions``): the PI's annual reports (due, overdue, changes
requested, waiting for the partner's co-signature), the unit manager's tranche receipts and spending to
record, and the reports and tranches waiting for officers and the directorate.

A report is shown from the first reminder before it falls due (the call's ``report_reminder_days``,
``funding.reminders``), so the dashboard and the reminders agree. Each provider reads in a constant number
of queries."""

import datetime as dt

from django.db.models import Count, Min, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from iea.next_actions import (
    OFFICER,
    PI,
    STAFF,
    UNIT_MANAGER,
    Action,
    Deadline,
    Urgency,
    landing,
    provides,
    provides_deadlines,
    urgency_of,
)
from iea.notifications.kinds import parse_offsets

from .domain.reports import report_due
from .models import (
    EDITABLE_REPORT_STATES,
    EDITABLE_REPORTS,
    Award,
    AwardState,
    Report,
    ReportState,
    Tranche,
    TrancheState,
)
from .rules import reviewable_awards
from .selectors import tranches_due

landing(UNIT_MANAGER, "funding:unit_awards")

# Without reminders configured, a report is shown this many days before it falls due.
DEFAULT_NOTICE_DAYS = 30


def notice_days(call) -> int:
    """How long before its due date a report appears: the call's first report reminder."""
    before = [-offset for offset in parse_offsets(call.report_reminder_days) if offset < 0]
    return max(before, default=DEFAULT_NOTICE_DAYS)


def _name(award: Award) -> str:
    proposal = award.proposal
    return proposal.acronym or proposal.title or proposal.reference


def _period(report: Report) -> str:
    return report.get_period_display().lower()


def _due_reports(queryset, now: dt.datetime):
    """(report, due date) of the reports in ``queryset`` that fall due within their notice or are late."""
    today = timezone.localdate(now)
    for report in queryset:
        due = report_due(report.award, report.period)
        if due - dt.timedelta(days=notice_days(report.award.proposal.call)) <= today:
            yield report, due


@provides(PI)
def pi_report_actions(user, now: dt.datetime):
    """The PI's reports to write (or revise) once due soon or late, and those waiting for the partner's
    co-signature. One query."""
    reports = (
        Report.objects.filter(award__proposal__pi=user, award__state=AwardState.ACTIVE,
                              state__in=[*EDITABLE_REPORT_STATES, ReportState.SUBMITTED])
        .select_related("award__proposal__call")
        .defer("scientific_review", "award__proposal__abstract", "award__proposal__activities",
               "award__proposal__ethics_statement")
        .order_by("pk")
    )
    editable, waiting = [], []
    for report in reports:
        (editable if report.editable else waiting).append(report)
    for report, due in _due_reports(editable, now):
        urgency = urgency_of(due, now=now)
        url = reverse("funding:report", kwargs={"pk": report.award_id, "period": report.period})
        values = {"period": _period(report), "name": _name(report.award)}
        if report.state == ReportState.CHANGES_REQUESTED:
            kind, text = "report_changes", _("Changes were requested on the %(period)s report of “%(name)s”: "
                                             "revise it and submit it again.") % values
        elif urgency == Urgency.OVERDUE:
            kind, text = "report_overdue", _("The %(period)s report of “%(name)s” is overdue: write it and "
                                             "submit it.") % values
        else:
            kind, text = "report_due", _("Write the %(period)s report of “%(name)s” and submit it.") % values
        yield Action(kind=kind, role=PI, text=text, url=url, due=due, urgency=urgency)
    for report in waiting:
        yield Action(kind="report_cosignature", role=PI, due=report_due(report.award, report.period),
                     url=reverse("funding:award", kwargs={"pk": report.award_id}),
                     text=_("The %(period)s report of “%(name)s” waits for the partner's co-signature: remind "
                            "the partner, or send the link again.") % {"period": _period(report),
                                                                        "name": _name(report.award)})


@provides(PI)
def pi_award_actions(user, now: dt.datetime):
    """The awards waiting for the PI's acceptance (``funding.domain.acceptance``), by their deadline. One query."""
    awards = (
        Award.objects.filter(proposal__pi=user, state=AwardState.AWAITING).select_related("proposal")
        .only("pk", "accept_by", "proposal__acronym", "proposal__title", "proposal__reference").order_by("accept_by", "pk")
    )
    for award in awards:
        yield Action(kind="award_to_accept", role=PI, due=award.accept_by, urgency=urgency_of(award.accept_by, now=now),
                     url=reverse("funding:award", kwargs={"pk": award.pk}) + "#acceptance",
                     text=_("Accept or decline the award of “%(name)s”.") % {"name": _name(award)})


@provides(UNIT_MANAGER)
def unit_actions(user, now: dt.datetime):
    """Tranches released to the unit whose receipt is not confirmed, and the spending to record before an
    award's report falls due. Two queries."""
    tranches = (
        Tranche.objects.filter(award__unit__managers=user, state=TrancheState.RELEASED, received_at__isnull=True)
        .select_related("award__proposal").order_by("decided_at", "pk")
        .defer("award__proposal__abstract", "award__proposal__activities", "award__proposal__ethics_statement")
    )
    for tranche in tranches:
        yield Action(kind="tranche_receipt", role=UNIT_MANAGER,
                     url=reverse("funding:unit_award", kwargs={"pk": tranche.award_id}),
                     text=_("Confirm that tranche %(number)s of “%(name)s” was received.")
                     % {"number": tranche.number, "name": _name(tranche.award)})
    reports = (
        Report.objects.filter(EDITABLE_REPORTS, award__unit__managers=user)
        .select_related("award__proposal__call").order_by("pk")
        .defer("scientific_review", "award__proposal__abstract", "award__proposal__activities",
               "award__proposal__ethics_statement")
    )
    for report, due in _due_reports(reports, now):
        yield Action(kind="spending_to_record", role=UNIT_MANAGER, due=due, urgency=urgency_of(due, now=now),
                     url=reverse("funding:unit_award", kwargs={"pk": report.award_id}),
                     text=_("Record the spending of “%(name)s”: its %(period)s report falls due.")
                     % {"name": _name(report.award), "period": _period(report)})


def _reports_to_approve(user, role: str):
    count = Report.objects.filter(state=ReportState.COSIGNED, award__in=reviewable_awards(user)).count()
    if count:
        yield Action(kind="reports_to_approve", role=role, url=reverse("funding:pending_reports"),
                     text=ngettext("%(count)s co-signed report waits for your approval.",
                                   "%(count)s co-signed reports wait for your approval.", count) % {"count": count})


@provides(OFFICER)
def officer_report_actions(user, now: dt.datetime):
    """The co-signed reports of the institute's awards waiting for approval (staff see them all, once,
    under their own role). One query."""
    if user.is_staff:
        return
    yield from _reports_to_approve(user, OFFICER)


@provides(STAFF)
def staff_funding_actions(user, now: dt.datetime):
    """Co-signed reports to approve, tranches planned by today whose gate is open, and the awards to cancel
    (declined, or not accepted in time: ``award_cancellable``) so their amount returns to the reserve list.
    Three queries."""
    yield from _reports_to_approve(user, STAFF)
    cancellable = Award.objects.filter(Q(state=AwardState.DECLINED) | Q(state=AwardState.AWAITING, accept_by__lt=now))
    count = cancellable.count()
    if count:
        yield Action(kind="awards_to_cancel", role=STAFF, url=reverse("admin:funding_award_changelist"),
                     text=ngettext("%(count)s award was declined or not accepted in time: cancel it to give its "
                                   "amount to the reserve list.",
                                   "%(count)s awards were declined or not accepted in time: cancel them to give "
                                   "their amount to the reserve list.", count) % {"count": count})
    today = timezone.localdate(now)
    due = tranches_due().filter(planned_date__lte=today).aggregate(count=Count("pk"), first=Min("planned_date"))
    count = due["count"]
    if count:
        # Planned for a day that has come: late from the day after (``urgency_of`` on a day).
        yield Action(kind="tranches_to_release", role=STAFF, due=due["first"], urgency=urgency_of(due["first"], now=now),
                     url=reverse("admin:funding_tranche_changelist") + "?releasable=now",
                     text=ngettext("%(count)s tranche may be released.", "%(count)s tranches may be released.",
                                   count) % {"count": count})


@provides_deadlines
def award_deadlines(user, now: dt.datetime):
    """The calendar feed's deadlines of the PI's awards, declined and cancelled ones aside: the answer an award
    awaits, then the due day of each report not yet approved. Two queries (the reports prefetched)."""
    awards = Award.objects.filter(proposal__pi=user).exclude(state__in=[AwardState.DECLINED, AwardState.CANCELLED])
    for award in awards.select_related("proposal").prefetch_related("reports"):
        if award.state == AwardState.AWAITING and award.accept_by is not None:
            yield Deadline(
                uid=f"award-{award.pk}-accept-by",
                title=_("Accept or decline the award of %(proposal)s") % {"proposal": award.proposal.reference},
                at=award.accept_by, url=reverse("funding:award", args=[award.pk]) + "#acceptance",
            )
        for report in award.reports.all():
            if report.state != ReportState.APPROVED:
                yield Deadline(
                    uid=f"report-{report.pk}-due",
                    title=_("%(period)s report of %(proposal)s due") % {
                        "period": report.get_period_display(), "proposal": award.proposal.reference},
                    at=report_due(award, report.period), url=reverse("funding:award", args=[award.pk]),
                )
