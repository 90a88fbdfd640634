"""The rules of a call: its window, its state changes and its copy for next year.

Every state change goes through one function here: it checks the transition, locks the row, saves with
``update_fields``, and writes the audit entry in the same transaction.
"""

import calendar
import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from iea.audit.domain import audit_record
from iea.audit.models import AuditEntry
from iea.formats import PARIS

from .models import PUBLIC_CALL_STATES, Call, CallDeadlineChange, CallState, Criterion, InstitutePriority

# domain.md, "The six evaluation criteria" (seed, in this order).
DEFAULT_CRITERIA = [
    ("Qualité scientifique du projet", "Scientific quality of the project"),
    ("Intérêt de la collaboration à l'international", "Value of the international collaboration"),
    ("Qualité scientifique et complémentarité des équipes", "Scientific quality and complementarity of the teams"),
    ("Participation de jeunes chercheurs", "Participation of early-career researchers"),
    ("Éthique", "Ethics"),
    ("Justification financière", "Financial justification"),
]

ACTION_PARTICIPLES = {
    "publish": gettext_lazy("published"),
    "open": gettext_lazy("opened"),
    "close": gettext_lazy("closed"),
    "start_review": gettext_lazy("put in review"),
    "mark_decided": gettext_lazy("marked decided"),
}

# Which state a staff action may start from, and where it leads.
TRANSITIONS = {
    "publish": ({CallState.DRAFT}, CallState.PUBLISHED),
    "open": ({CallState.DRAFT, CallState.PUBLISHED}, CallState.OPEN),
    "close": ({CallState.OPEN}, CallState.CLOSED),
    "start_review": ({CallState.CLOSED}, CallState.IN_REVIEW),
    "mark_decided": ({CallState.IN_REVIEW}, CallState.DECIDED),
}
# The states from which a call's closing time may move later (``call_extend``; a closed call reopens).
EXTENDABLE = frozenset({CallState.PUBLISHED, CallState.OPEN, CallState.CLOSED})


def default_window(year: int) -> tuple[dt.datetime, dt.datetime]:
    """1 June 00:00 to the last weekday of September at 13:00, Paris time (domain.md, config)."""
    opens = dt.datetime(year, 6, 1, 0, 0, tzinfo=PARIS)
    day = calendar.monthrange(year, 9)[1]
    while dt.date(year, 9, day).weekday() >= 5:
        day -= 1
    closes = dt.datetime(year, 9, day, 13, 0, tzinfo=PARIS)
    return opens, closes


def call_deadline(call: Call) -> dt.datetime:
    """The last instant a submission is accepted: the closing time plus the grace period."""
    return call.closes_at + dt.timedelta(minutes=call.grace_minutes)


def call_accepts_submissions(call: Call, *, now: dt.datetime) -> bool:
    """Proposals can be created, edited and submitted only while the call is open and inside its window.

    The deadline is inclusive of the grace period and exclusive at its end: at ``closes_at + grace`` the
    call is closed.
    """
    return call.state == CallState.OPEN and call.opens_at <= now < call_deadline(call)


def call_phase(call: Call, *, now: dt.datetime) -> str:
    """What a visitor should be told: ``upcoming``, ``open`` or ``closed``."""
    if call.state in (CallState.DRAFT, CallState.PUBLISHED) or (call.state == CallState.OPEN and now < call.opens_at):
        return "upcoming"
    if call_accepts_submissions(call, now=now):
        return "open"
    return "closed"


def calls_by_relevance(calls, *, now: dt.datetime) -> list[Call]:
    """Calls in the order a visitor needs them: the open ones first (the nearest deadline first), then the
    upcoming ones (the soonest opening first), then the past ones (the latest year first). Publishing next
    year's call must not hide the call that is still open (the home page featured "IEA 2028 — upcoming"
    while IEA 2027 had nine days left)."""
    rank = {"open": 0, "upcoming": 1, "closed": 2}

    def key(call: Call):
        phase = call_phase(call, now=now)
        when = {"open": call_deadline(call).timestamp(), "upcoming": call.opens_at.timestamp()}.get(phase, -call.year)
        return rank[phase], when

    return sorted(calls, key=key)


def _transition(*, call_id: int, action: str, user, now: dt.datetime, reason: str = "") -> Call:
    allowed_from, target = TRANSITIONS[action]
    with transaction.atomic():
        call = Call.objects.select_for_update().get(pk=call_id)
        if call.state not in allowed_from:
            raise ValidationError(
                _("The call “%(call)s” is %(state)s; it cannot be %(action)s from that state.")
                % {"call": call, "state": call.get_state_display().lower(), "action": ACTION_PARTICIPLES[action]}
            )
        before = call.state
        call.state = target
        fields = ["state", "updated_at"]
        if action == "close" and call.closes_at > now:
            if not reason.strip():
                raise ValidationError(_("Closing before the deadline needs a reason; it is kept in the call's history."))
            _log_deadline(call=call, user=user, now=now, new_closes_at=now, reason=reason)
            call.closes_at = now
            call.grace_minutes = 0
            fields += ["closes_at", "grace_minutes"]
        call.save(update_fields=fields)
        audit_record(actor=user, target=call, action=f"call.{action}", now=now, from_state=before, to_state=target, reason=reason)
    return call


def call_publish(*, call_id: int, user, now: dt.datetime) -> Call:
    """Make a call visible on the public pages (it does not accept proposals yet)."""
    return _transition(call_id=call_id, action="publish", user=user, now=now)


def call_open(*, call_id: int, user, now: dt.datetime) -> Call:
    """Open a call: it accepts proposals from ``opens_at`` until its deadline."""
    return _transition(call_id=call_id, action="open", user=user, now=now)


def call_close(*, call_id: int, user, now: dt.datetime, reason: str = "") -> Call:
    """Close a call. Closing before the deadline moves the deadline to now and is logged with the reason."""
    return _transition(call_id=call_id, action="close", user=user, now=now, reason=reason)


def call_start_review(*, call_id: int, user, now: dt.datetime) -> Call:
    """A closed call goes to the institutes' review (screening can start once the deadline has passed)."""
    return _transition(call_id=call_id, action="start_review", user=user, now=now)


def call_mark_decided(*, call_id: int, user, now: dt.datetime) -> Call:
    """Every decision of the call is taken: the call leaves review."""
    return _transition(call_id=call_id, action="mark_decided", user=user, now=now)


def _log_deadline(*, call: Call, user, now: dt.datetime, new_closes_at: dt.datetime, reason: str) -> None:
    CallDeadlineChange.objects.create(
        call=call, changed_at=now, changed_by=user, old_closes_at=call.closes_at, new_closes_at=new_closes_at,
        reason=reason,
    )


def call_extend(*, call_id: int, user, now: dt.datetime, new_closes_at: dt.datetime, reason: str) -> Call:
    """Move a call's closing time later, with a logged reason (domain.md: "extend with a logged reason").

    An extension may reopen a call that closed; it cannot move the deadline into the past or earlier.
    """
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(_("Give the reason for the extension; it is kept in the call's history."))
    with transaction.atomic():
        call = Call.objects.select_for_update().get(pk=call_id)
        if call.state not in EXTENDABLE:
            raise ValidationError(
                _("A call that is %(state)s cannot be extended.") % {"state": call.get_state_display().lower()}
            )
        if new_closes_at <= call.closes_at:
            raise ValidationError(_("The new closing time must be later than the current one."))
        if new_closes_at <= now:
            raise ValidationError(_("The new closing time must be in the future."))
        before = call.state
        old = call.closes_at
        _log_deadline(call=call, user=user, now=now, new_closes_at=new_closes_at, reason=reason)
        call.closes_at = new_closes_at
        if call.state == CallState.CLOSED:
            call.state = CallState.OPEN
        call.save(update_fields=["closes_at", "state", "updated_at"])
        audit_record(
            actor=user, target=call, action="call.extend", now=now, from_state=before, to_state=call.state,
            reason=reason, data={"old_closes_at": old.isoformat(), "new_closes_at": new_closes_at.isoformat()},
        )
    return call


def call_allowed_actions(call: Call) -> frozenset[str]:
    """What the directorate may do with a call in its state: the ``TRANSITIONS`` that start from it,
    ``extend`` from an ``EXTENDABLE`` state, ``clone`` always, and, once the call is public, the review's
    ``screening`` and ``decisions`` pages. The call's admin page offers exactly these; each action still
    checks its own state when it runs."""
    allowed = {action for action, (allowed_from, _target) in TRANSITIONS.items() if call.state in allowed_from}
    if call.state in EXTENDABLE:
        allowed.add("extend")
    if call.state in PUBLIC_CALL_STATES:
        allowed |= {"screening", "decisions"}
    return frozenset({*allowed, "clone"})


def call_record_edit(*, call: Call, user, now: dt.datetime, created: bool, changed: list[str]) -> None:
    """Audit a call created or edited in the admin. A new call with no criteria gets the six of domain.md."""
    if created and not call.criteria.exists():
        criteria_seed(call)
    if created or changed:
        audit_record(
            actor=user, target=call, action="call.create" if created else "call.update", now=now,
            to_state=call.state if created else "", data={"changed": sorted(changed)},
        )


def criteria_seed(call: Call) -> None:
    """Give a new call its own copy of the six criteria of domain.md, scored 0–5 in half points."""
    Criterion.objects.bulk_create(
        Criterion(call=call, position=i, label_fr=fr, label_en=en, scale_max=Decimal(5), step=Decimal("0.5"))
        for i, (fr, en) in enumerate(DEFAULT_CRITERIA, start=1)
    )


@dataclass(frozen=True)
class CloneResult:
    call: Call
    criteria: int
    priorities: int


REMINDER_FIELDS = ("draft_reminder_days", "letter_reminder_days", "review_reminder_days", "review_escalation_days",
                   "report_reminder_days")


# The texts of a call that say which year it is for; a clone copies them, and may keep last year's in them.
_YEARLY_CALL_FIELDS = ("title_fr", "title_en", "summary_fr", "summary_en", "rules_fr", "rules_en")
_YEARLY_CRITERION_FIELDS = ("label_fr", "label_en", "guidance_fr", "guidance_en")
_YEARLY_PRIORITY_FIELDS = ("themes_fr", "themes_en")


def call_source_year(call: Call) -> int | None:
    """The year of the call this one was cloned from (``call_clone`` records it in the audit trail), else
    the year of the call before it."""
    source = (
        AuditEntry.objects.filter(action="call.clone", content_type=ContentType.objects.get_for_model(Call),
                                  object_id=str(call.pk))
        .order_by("-created_at").values_list("data__source_year", flat=True).first()
    )
    if source is not None:
        return int(source)
    return Call.objects.filter(year__lt=call.year).order_by("-year").values_list("year", flat=True).first()


def call_stale_year_fields(call: Call, *, year: int | None = None) -> list[str]:
    """The names of the texts of a call not open yet (title, summary, rules, each criterion's label and
    guidance, each institute's priorities, in French and English) that still name ``year`` (default: the
    year of the call it was cloned from, ``call_source_year``), e.g. "2026" left in a call cloned for 2027. Empty when there is nothing to fix, and
    for a call already open or past, whose texts are what applicants read."""
    if call.state not in (CallState.DRAFT, CallState.PUBLISHED):
        return []
    year = year if year is not None else call_source_year(call)
    if year is None or year == call.year:
        return []
    names = re.compile(rf"(?<!\d){year}(?!\d)")
    found = [str(Call._meta.get_field(name).verbose_name) for name in _YEARLY_CALL_FIELDS
             if names.search(getattr(call, name) or "")]
    for criterion in call.criteria.order_by("position"):
        found += [
            _("criterion %(position)s: %(field)s") % {
                "position": criterion.position, "field": Criterion._meta.get_field(name).verbose_name}
            for name in _YEARLY_CRITERION_FIELDS if names.search(getattr(criterion, name) or "")
        ]
    for priority in call.priorities.select_related("institute").order_by("institute__code"):
        found += [
            _("priorities of %(institute)s: %(field)s") % {
                "institute": priority.institute.code, "field": InstitutePriority._meta.get_field(name).verbose_name}
            for name in _YEARLY_PRIORITY_FIELDS if names.search(getattr(priority, name) or "")
        ]
    return found


def call_clone(*, source_id: int, year: int, user, now: dt.datetime) -> CloneResult:
    """Start next year's call from an earlier one: texts, rules, criteria and priorities are copied;
    the dates move to ``year``'s default window and the state starts at draft."""
    try:
        return _clone(source_id=source_id, year=year, user=user, now=now)
    except IntegrityError:
        # Two clones for the same year at once: the unique year lets one through.
        raise ValidationError(_("There is already a call for %(year)s.") % {"year": year}) from None


def _clone(*, source_id: int, year: int, user, now: dt.datetime) -> CloneResult:
    with transaction.atomic():
        source = Call.objects.get(pk=source_id)
        if Call.objects.filter(year=year).exists():
            raise ValidationError(_("There is already a call for %(year)s.") % {"year": year})
        opens_at, closes_at = default_window(year)
        call = Call.objects.create(
            year=year,
            title_fr=source.title_fr.replace(str(source.year), str(year)),
            title_en=source.title_en.replace(str(source.year), str(year)),
            summary_fr=source.summary_fr, summary_en=source.summary_en,
            rules_fr=source.rules_fr, rules_en=source.rules_en,
            state=CallState.DRAFT, opens_at=opens_at, closes_at=closes_at, grace_minutes=source.grace_minutes,
            budget_min=source.budget_min, budget_max=source.budget_max, total_envelope=source.total_envelope,
            overall_threshold=source.overall_threshold,
            duration_months=source.duration_months, award_acceptance_days=source.award_acceptance_days,
            max_extension_months=source.max_extension_months,
            reviews_per_proposal=source.reviews_per_proposal,
            max_active_proposals_per_pi=source.max_active_proposals_per_pi,
            excluded_countries=source.excluded_countries,
            retention_years=source.retention_years,
            coauthor_conflict_years=source.coauthor_conflict_years,
            **{name: getattr(source, name) for name in REMINDER_FIELDS},
        )
        criteria = Criterion.objects.bulk_create(
            Criterion(
                call=call, position=c.position, label_fr=c.label_fr, label_en=c.label_en,
                guidance_fr=c.guidance_fr, guidance_en=c.guidance_en, scale_max=c.scale_max, step=c.step,
                weight=c.weight, threshold=c.threshold,
            )
            for c in source.criteria.all()
        )
        priorities = InstitutePriority.objects.bulk_create(
            InstitutePriority(
                call=call, institute_id=p.institute_id, themes_fr=p.themes_fr, themes_en=p.themes_en,
                priority_countries=p.priority_countries,
            )
            for p in source.priorities.all()
        )
        audit_record(
            actor=user, target=call, action="call.clone", now=now, to_state=call.state,
            data={"source_call": source.pk, "source_year": source.year},
        )
    return CloneResult(call=call, criteria=len(criteria), priorities=len(priorities))
