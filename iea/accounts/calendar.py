"""A person's own deadlines as an iCalendar feed (domain.md: closing, reviews due, reports due, an award
to accept).

The feed is read by calendar applications, which cannot sign in: its address carries the person's
``calendar_key``, which they can reset. Times are exported in UTC; calendars show them in local time.
"""

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from icalendar import Calendar, Event

from calls.domain import call_accepts_submissions, call_deadline
from funding.domain.reports import report_due
from funding.models import Award, AwardState, ReportState
from proposals.models import EDITABLE_STATES, Proposal
from reviews.models import Assignment, AssignmentState, Panel, ReviewState


@dataclass(frozen=True)
class Deadline:
    uid: str
    title: str
    at: dt.datetime | dt.date
    url: str

    @property
    def has_time(self) -> bool:
        return isinstance(self.at, dt.datetime)


def deadlines_for(user, *, now: dt.datetime) -> list[Deadline]:
    """Every open deadline of the person, in four queries whatever their number."""
    deadlines: list[Deadline] = []
    for proposal in Proposal.objects.filter(pi=user, state__in=EDITABLE_STATES).select_related("call"):
        if call_accepts_submissions(proposal.call, now=now):
            deadlines.append(Deadline(
                uid=f"proposal-{proposal.pk}-deadline",
                title=_("Deadline of %(call)s for %(proposal)s") % {
                    "call": proposal.call.title, "proposal": proposal.acronym or proposal.reference},
                at=call_deadline(proposal.call), url=reverse("proposals:detail", args=[proposal.pk]),
            ))
    assignments = (
        Assignment.objects.filter(reviewer__user=user, state__in=[AssignmentState.INVITED, AssignmentState.ACCEPTED])
        .exclude(review__state=ReviewState.SUBMITTED).select_related("proposal")
    )
    for assignment in assignments:
        deadlines.append(Deadline(
            uid=f"assignment-{assignment.pk}-due",
            title=_("Review of %(proposal)s due") % {"proposal": assignment.proposal.reference},
            at=assignment.due_at, url=reverse("reviewer:assignments"),
        ))
    for panel in Panel.objects.filter(officers=user, review_due_at__isnull=False).select_related("call", "institute"):
        deadlines.append(Deadline(
            uid=f"panel-{panel.pk}-reviews-due",
            title=_("Reviews due for the %(institute)s panel of %(call)s") % {
                "institute": panel.institute.code, "call": panel.call.title},
            at=panel.review_due_at, url=reverse("panel:table", args=[panel.pk]),
        ))
    awards = Award.objects.filter(proposal__pi=user).exclude(state__in=[AwardState.DECLINED, AwardState.CANCELLED])
    for award in awards.select_related("proposal").prefetch_related("reports"):
        if award.state == AwardState.AWAITING and award.accept_by is not None:
            deadlines.append(Deadline(
                uid=f"award-{award.pk}-accept-by",
                title=_("Accept or decline the award of %(proposal)s") % {"proposal": award.proposal.reference},
                at=award.accept_by, url=reverse("funding:award", args=[award.pk]) + "#acceptance",
            ))
        for report in award.reports.all():
            if report.state != ReportState.APPROVED:
                deadlines.append(Deadline(
                    uid=f"report-{report.pk}-due",
                    title=_("%(period)s report of %(proposal)s due") % {
                        "period": report.get_period_display(), "proposal": award.proposal.reference},
                    at=report_due(award, report.period), url=reverse("funding:award", args=[award.pk]),
                ))
    return sorted(deadlines, key=lambda d: (d.at if isinstance(d.at, dt.datetime) else dt.datetime.combine(
        d.at, dt.time(), tzinfo=dt.UTC)))


def render_ics(user, deadlines: list[Deadline], *, now: dt.datetime) -> bytes:
    with translation.override(user.language):
        calendar = Calendar()
        calendar.add("prodid", "-//IEA//Deadlines//EN")
        calendar.add("version", "2.0")
        calendar.add("x-wr-calname", _("IEA deadlines"))
        host = settings.SITE_URL.split("//", 1)[-1]
        for deadline in deadlines:
            event = Event()
            event.add("uid", f"{deadline.uid}@{host}")
            event.add("dtstamp", now.astimezone(dt.UTC))
            event.add("summary", deadline.title)
            if isinstance(deadline.at, dt.datetime):
                event.add("dtstart", deadline.at.astimezone(dt.UTC))
                event.add("dtend", deadline.at.astimezone(dt.UTC))
            else:
                event.add("dtstart", deadline.at)
            event.add("url", settings.SITE_URL + deadline.url)
            calendar.add_component(event)
        return calendar.to_ical()
