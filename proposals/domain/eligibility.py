"""The eligibility rules of domain.md, one function that the page, submission and screening all ask."""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Sum
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from calls.domain import call_accepts_submissions, call_deadline
from iea import formats

from ..models import (
    ACTIVE_STATES,
    InformationRequestState,
    Proposal,
    TeamSide,
)
from .partner import current_letter

REQUIRED_FIELDS = {
    "title": gettext_lazy("title"),
    "acronym": gettext_lazy("acronym"),
    "abstract": gettext_lazy("abstract"),
    "keywords": gettext_lazy("keywords"),
    "partner_name": gettext_lazy("partner's name"),
    "partner_email": gettext_lazy("partner's e-mail"),
    "partner_institution": gettext_lazy("partner's institution"),
    "activities": gettext_lazy("planned missions and meetings"),
    "ethics_statement": gettext_lazy("ethics statement"),
}




@dataclass(frozen=True)
class Check:
    code: str
    label: str
    ok: bool
    detail: str = ""


_NOT_GIVEN = object()


def proposal_checklist(
    proposal: Proposal, *, now: dt.datetime, letter=_NOT_GIVEN, others_active: int | None = None,
    as_submitted: bool = False,
) -> list[Check]:
    """The eligibility rules of domain.md, in the order the PI meets them. ``proposal_submit`` refuses
    unless every one holds, so the page and the server can never disagree; staff's screening asks the
    same function (``reviews.domain.screening``).

    For many proposals at once, pass what would otherwise be queried: ``letter``, ``others_active``
    (the PI's other active proposals in the call), and the proposal with its team, budget lines and
    unit's secondary institutes prefetched. ``as_submitted`` asks the deadline rule of the moment the
    last version was received instead of ``now`` (screening happens after the deadline).
    """
    call = proposal.call
    checks: list[Check] = []
    missing = [str(label) for name, label in REQUIRED_FIELDS.items() if not str(getattr(proposal, name) or "").strip()]
    checks.append(Check(
        "required", _("Required fields are filled in"), not missing,
        _("Missing: %(fields)s.") % {"fields": ", ".join(missing)} if missing else "",
    ))
    unit_ok = proposal.unit_id is not None
    checks.append(Check(
        "unit", _("The PI's CNRS unit is known"), unit_ok,
        "" if unit_ok else _("Enter the code of your CNRS unit, e.g. UMR 5558."),
    ))
    institute_ok = True
    if proposal.unit_id and proposal.evaluating_institute_id:
        institute_ok = proposal.unit.may_be_evaluated_by(proposal.evaluating_institute_id)
    checks.append(Check(
        "institute", _("The evaluating institute is one of the unit's institutes"), institute_ok,
        "" if institute_ok else _("Choose the unit's main institute or one of its secondary institutes."),
    ))
    country = proposal.partner_country
    if not country:
        country_ok, country_detail = False, _("Choose the partner's country.")
    elif country.code == "FR":
        country_ok, country_detail = False, _("The partner must work in a country other than France.")
    elif country.code in [c.code for c in call.excluded_countries]:
        country_ok, country_detail = False, _("This call does not accept new collaborations with %(country)s.") % {
            "country": country.name
        }
    else:
        country_ok, country_detail = True, ""
    checks.append(Check("country", _("The partner works in an eligible country"), country_ok, country_detail))
    total = proposal_budget_total(proposal)
    budget_ok = call.budget_min <= total <= call.budget_max
    checks.append(Check(
        "budget", _("The total budget is within the call's bounds"), budget_ok,
        _("The total is %(total)s; it must be between %(min)s and %(max)s.")
        % {"total": formats.money(total), "min": formats.money(call.budget_min), "max": formats.money(call.budget_max)},
    ))
    members = list(proposal.team.all())
    has_partner_side = any(m.side == TeamSide.PARTNER for m in members)
    has_cnrs_side = any(m.side == TeamSide.CNRS for m in members)
    team_ok = has_partner_side and has_cnrs_side
    checks.append(Check(
        "team", _("Both teams have at least one member"), team_ok,
        "" if team_ok else _("Add at least one member on the CNRS side and one on the partner's side."),
    ))
    letter = current_letter(proposal) if letter is _NOT_GIVEN else letter
    checks.append(Check(
        "letter", _("The partner's support letter is attached (PDF)"), letter is not None,
        "" if letter else _("Upload the letter, or invite the partner to upload it."),
    ))
    if others_active is None:
        others_active = (
            Proposal.objects.filter(call=call, pi_id=proposal.pi_id, state__in=ACTIVE_STATES).exclude(pk=proposal.pk).count()
        )
    limit_ok = others_active < call.max_active_proposals_per_pi
    checks.append(Check(
        "limit", _("You are within the call's limit of active proposals"), limit_ok,
        "" if limit_ok else _("You already have the most active proposals this call allows."),
    ))
    deadline_detail = _("Deadline: %(deadline)s (Paris time).") % {
        "deadline": formats.datetime(call_deadline(call), zone=False)}
    if as_submitted:
        submitted = proposal.submitted_at
        open_ok = submitted is not None and call.opens_at <= submitted < call_deadline(call)
        if not open_ok and submitted is not None and last_version_answers_a_request(proposal):
            # Sent after the deadline by the rule of a request for information (#21): the proposal was on time.
            open_ok = True
            deadline_detail = _("%(deadline)s The last version answers the directorate's request for information.") % {
                "deadline": deadline_detail}
    else:
        open_ok = call_accepts_submissions(call, now=now)
    checks.append(Check("deadline", _("The call accepts submissions"), open_ok, deadline_detail))
    return checks


def last_version_answers_a_request(proposal: Proposal) -> bool:
    """Whether the proposal's last submission is the answer to a request for information (#21): the only
    submission the domain takes after the deadline, which then does not make the proposal late. Reads the
    prefetched ``information_requests`` when a list has them (screening), else one query."""
    submitted = proposal.submitted_at
    cache = getattr(proposal, "_prefetched_objects_cache", {})
    if "information_requests" in cache:
        return any(request.state == InformationRequestState.ANSWERED and request.closed_at == submitted
                   for request in cache["information_requests"])
    return proposal.information_requests.filter(state=InformationRequestState.ANSWERED, closed_at=submitted).exists()


def proposal_budget_total(proposal: Proposal) -> Decimal:
    lines = getattr(proposal, "_prefetched_objects_cache", {}).get("budget_lines")
    if lines is not None:
        return sum((line.amount for line in lines), Decimal(0))
    return proposal.budget_lines.aggregate(total=Sum("amount"))["total"] or Decimal(0)


def proposal_is_eligible(checks: list[Check]) -> bool:
    return all(check.ok for check in checks)
