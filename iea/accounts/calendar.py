"""A person's own deadlines as an iCalendar feed (domain.md: closing, reviews due, reports due, an award
to accept).

The feed is read by calendar applications, which cannot sign in: its address carries the person's
``calendar_key``, which they can reset. Times are exported in UTC; calendars show them in local time.

The deadlines come from the apps (``iea.next_actions.deadlines_for``: each app declares its own in
``<app>/next_actions.py``); this module only writes them as iCalendar.
"""

import datetime as dt

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _
from icalendar import Calendar, Event

from iea.next_actions import Deadline


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
