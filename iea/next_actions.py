"""What a person should do now, for every role, from one place.

Each app declares, in ``<app>/next_actions.py``, the actions it knows of for a role (``@provides("pi")``
…) and the page a role lands on after signing in (``landing(...)``). The core knows no app: it asks the
roles of the person (``iea.roles``), calls the providers of those roles and orders what they return.
A new kind of action (award acceptance, say) is one more provider in the app that owns it; nothing here
changes.

The same modules declare the person's dated deadlines for their calendar feed (``@provides_deadlines``,
``deadlines_for``; ``iea.accounts.calendar`` renders them as iCalendar): a deadline is the person's own,
whatever the role, so these providers are not asked by role.

Each provider takes the person and ``now`` and reads its actions in a constant number of queries,
whatever the number of proposals, reviews or awards (the dashboards' query-count tests pin it).
"""

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import IntEnum

from django.urls import reverse
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.module_loading import autodiscover_modules

from .roles import Roles, user_roles

# The roles, as the providers name them.
PI, REVIEWER, OFFICER, STAFF, UNIT_MANAGER = "pi", "reviewer", "officer", "staff", "unit_manager"
ROLES = (STAFF, OFFICER, REVIEWER, UNIT_MANAGER, PI)

# An action due within this many days is "soon".
SOON_DAYS = 7


class Urgency(IntEnum):
    OVERDUE = 0
    SOON = 1
    NORMAL = 2

    @property
    def css(self) -> str:
        return {Urgency.OVERDUE: "overdue", Urgency.SOON: "soon", Urgency.NORMAL: "normal"}[self]


@dataclass(frozen=True)
class Action:
    """One thing to do: what (in the person's language), by when, how urgent, and where to do it.

    ``kind`` names the action for tests and the templates (``report_overdue``, ``review_due``…); ``due`` is
    an aware datetime or a date (a report falls due on a day)."""

    kind: str
    role: str
    text: str | Promise
    url: str
    due: dt.datetime | dt.date | None = None
    urgency: Urgency = Urgency.NORMAL

    @property
    def overdue(self) -> bool:
        return self.urgency == Urgency.OVERDUE

    @property
    def soon(self) -> bool:
        return self.urgency == Urgency.SOON

    @property
    def due_is_day(self) -> bool:
        """A due day (a report), shown as a date; a due moment (a deadline) is shown with its time."""
        return isinstance(self.due, dt.date) and not isinstance(self.due, dt.datetime)


def urgency_of(due: dt.datetime | dt.date | None, *, now: dt.datetime) -> Urgency:
    """Overdue once the due moment (or day) has passed, soon within ``SOON_DAYS``, normal otherwise."""
    if due is None:
        return Urgency.NORMAL
    if isinstance(due, dt.datetime):
        left = due - now
        if left <= dt.timedelta(0):
            return Urgency.OVERDUE
    else:
        left = dt.timedelta(days=(due - timezone.localdate(now)).days)
        if left < dt.timedelta(0):
            return Urgency.OVERDUE
    return Urgency.SOON if left <= dt.timedelta(days=SOON_DAYS) else Urgency.NORMAL


Provider = Callable[[object, dt.datetime], Iterable[Action]]
PROVIDERS: dict[str, list[Provider]] = {role: [] for role in ROLES}
# role → the URL name of the page the role lands on after signing in
LANDINGS: dict[str, str] = {}


def provides(role: str):
    """Register a function of (user, now) yielding the role's actions found by one app."""
    if role not in PROVIDERS:
        raise ValueError(f"Unknown role {role!r}.")

    def register(function: Provider) -> Provider:
        if function not in PROVIDERS[role]:
            PROVIDERS[role].append(function)
        return function

    return register


def landing(role: str, url_name: str) -> None:
    """The page ``role`` lands on after signing in (its own work)."""
    if role not in PROVIDERS:
        raise ValueError(f"Unknown role {role!r}.")
    LANDINGS[role] = url_name


_discovered = False


def _discover() -> None:
    global _discovered
    if not _discovered:
        autodiscover_modules("next_actions")
        _discovered = True


def roles_held(roles: Roles) -> list[str]:
    """The roles a person holds, in ``ROLES`` order; everyone may act as a PI."""
    held = {STAFF: roles.staff, OFFICER: roles.officer, REVIEWER: roles.reviewer,
            UNIT_MANAGER: roles.unit_manager, PI: roles.pi}
    return [role for role in ROLES if held[role]]


def _ordered(actions: Iterable[Action]) -> list[Action]:
    def key(action: Action):
        due = action.due
        if isinstance(due, dt.datetime):
            moment = due.timestamp()
        elif isinstance(due, dt.date):
            moment = dt.datetime.combine(due, dt.time.max, tzinfo=timezone.get_current_timezone()).timestamp()
        else:
            moment = float("inf")
        return (action.urgency, moment)

    return sorted(actions, key=key)


def next_actions(user, *, now: dt.datetime, role: str | None = None) -> list[Action]:
    """What ``user`` should do now: overdue first, then what falls due soon, then the rest, each group by
    due date (undated last). ``role`` limits it to one role (a role's own page); by default, every role
    the person holds. A role the person does not hold gives nothing."""
    if not getattr(user, "is_authenticated", False):
        return []
    _discover()
    held = roles_held(user_roles(user))
    wanted = [role] if role is not None else held
    actions: list[Action] = []
    for name in wanted:
        if name not in held:
            continue
        for provider in PROVIDERS[name]:
            actions.extend(provider(user, now))
    return _ordered(actions)


def landing_url(user) -> str | None:
    """Where ``user`` lands after signing in: the page of the most specific work they hold, in the order
    of ``ROLES`` — staff (the back office: it holds every call's screening and decisions), then officer
    (their panels), reviewer (their reviews), unit manager (their unit's awards), then PI (their
    proposals). ``None`` when no role declares a page (the settings' default then applies)."""
    _discover()
    for role in roles_held(user_roles(user)):
        if role in LANDINGS:
            return reverse(LANDINGS[role])
    return None


# The calendar feed's deadlines -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Deadline:
    """One dated event of a person's calendar feed: ``uid`` names it for good (a calendar application updates
    the event it already has), ``at`` is an aware datetime or a day, ``url`` the page where it is done."""

    uid: str
    title: str
    at: dt.datetime | dt.date
    url: str

    @property
    def has_time(self) -> bool:
        return isinstance(self.at, dt.datetime)


DeadlineProvider = Callable[[object, dt.datetime], Iterable[Deadline]]
DEADLINE_PROVIDERS: list[DeadlineProvider] = []


def provides_deadlines(function: DeadlineProvider) -> DeadlineProvider:
    """Register a function of (user, now) yielding the person's open deadlines that one app knows of."""
    if function not in DEADLINE_PROVIDERS:
        DEADLINE_PROVIDERS.append(function)
    return function


def deadlines_for(user, *, now: dt.datetime) -> list[Deadline]:
    """Every open deadline of the person, by date (a day counts from its midnight UTC; equal dates keep the
    apps' order), in a constant number of queries whatever their number: each provider reads in a constant
    number."""
    _discover()
    deadlines = [deadline for provider in DEADLINE_PROVIDERS for deadline in provider(user, now)]
    return sorted(deadlines, key=lambda d: (d.at if isinstance(d.at, dt.datetime) else dt.datetime.combine(
        d.at, dt.time(), tzinfo=dt.UTC)))


# Directorate staff work in the back office (the Django admin, part of the core).
landing(STAFF, "admin:index")
