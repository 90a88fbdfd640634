"""Amendments after the award (domain.md, "Amendments": "a no-cost extension of the action (a few months,
with a reason), a transfer between budget categories or years, a change of the partner's institution —
asked by the PI, seen by the unit, decided by staff, kept as versions of the award").

- Only the award's PI asks, only on an active award, with a reason; one open amendment of a kind at a time
  per award (also a database constraint).
- An extension never takes the award beyond the call's ``max_extension_months`` in total (0: no extension).
  The final report falls due at the new end date (``report_due`` reads ``award.end_date``) and its
  reminders follow; the tranches' planned dates do not depend on the end date, so they stay.
- A transfer moves an amount from one line of the award's budget plan (year × category) to another: the
  total never changes and no line goes negative. Between years, the tranche of each year follows (tranche
  N pays year N); a released or withheld tranche never changes, so such a transfer is refused.
- A new partner institution may come with a new country: the call's rule on countries applies (not
  France, not excluded by the call).
- The unit's manager gives an opinion (favourable or not, with a comment when unfavourable); staff approve
  or refuse (a reason to refuse), with or without it. Approval re-checks everything and applies it in one
  transaction under the award's lock, then freezes a new ``AwardVersion``.
"""

import datetime as dt
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils.translation import gettext as _
from django_countries import countries

from iea import formats
from iea.audit.domain import audit_record
from iea.roles import is_directorate
from proposals.models import BudgetCategory

from ..models import (
    OPEN_AMENDMENT_STATES,
    Amendment,
    AmendmentKind,
    AmendmentState,
    Award,
    AwardBudgetLine,
    AwardState,
    Tranche,
    TrancheState,
    UnitOpinion,
)
from ..rules import is_award_pi, is_award_unit_manager
from .awards import TRANCHES, FundingError, add_months
from .mail import notify_amendment
from .versions import award_version_create


class AmendmentError(FundingError):
    """An amendment rule refused the request."""


def extension_months_used(award: Award) -> int:
    """The months of the award's approved extensions."""
    return award.amendments.filter(kind=AmendmentKind.EXTENSION, state=AmendmentState.APPROVED).aggregate(
        total=Sum("months"))["total"] or 0


def extension_months_left(award: Award) -> int:
    return max(award.proposal.call.max_extension_months - extension_months_used(award), 0)


def may_ask_amendments(user, award: Award) -> bool:
    """Whether ``user`` may ask for amendments of ``award`` at all: its PI, while it is active (each kind has its
    own refusals on top, ``amendment_request_refusal``). The award's page offers the form on this."""
    return award.state == AwardState.ACTIVE and is_award_pi(user, award)


def awaits_unit_opinion(amendment: Amendment) -> bool:
    """Whether the amendment waits for its unit's opinion (the unit manager's page offers the form on this)."""
    return amendment.state == AmendmentState.REQUESTED


def amendment_request_refusal(award: Award, kind: str) -> str:
    """Why the PI cannot ask for an amendment of this kind now ('' if they can); the page asks it too."""
    if award.state != AwardState.ACTIVE:
        return _("Amendments can be asked only on an active award.")
    if award.amendments.filter(kind=kind, state__in=OPEN_AMENDMENT_STATES).exists():
        return _("An amendment of this kind is already waiting for a decision; withdraw it or wait for the decision.")
    if kind == AmendmentKind.EXTENSION and extension_months_left(award) <= 0:
        if award.proposal.call.max_extension_months == 0:
            return _("The awards of this call cannot be extended.")
        return _("This award has already been extended by the call's maximum of %(months)s months.") % {
            "months": award.proposal.call.max_extension_months}
    return ""


def _lock_award(award_id: int) -> Award:
    return Award.objects.select_for_update(of=("self",)).select_related("proposal__call", "unit").get(pk=award_id)


def _check_extension(award: Award, months) -> None:
    if not months or months < 1:
        raise AmendmentError(_("Give the number of months of the extension (at least 1)."), code="months")
    left = extension_months_left(award)
    if months > left:
        raise AmendmentError(_(
            "The call allows at most %(max)s months of extension in total; %(left)s months are left for this award."
        ) % {"max": award.proposal.call.max_extension_months, "left": left}, code="months")


def _check_transfer(award: Award, *, from_year, from_category, to_year, to_category, amount) -> None:
    years = range(1, TRANCHES + 1)
    if from_year not in years or to_year not in years:
        raise AmendmentError(_("Choose years of the award (1 to %(last)s).") % {"last": TRANCHES}, code="year")
    if from_category not in BudgetCategory.values or to_category not in BudgetCategory.values:
        raise AmendmentError(_("Choose the budget categories."), code="category")
    if (from_year, from_category) == (to_year, to_category):
        raise AmendmentError(_("Choose two different budget lines: the money moves from one to the other."),
                             code="same_line")
    if amount is None or amount <= 0:
        raise AmendmentError(_("Give the amount to transfer, more than 0 €."), code="amount")
    source = AwardBudgetLine.objects.filter(award=award, year=from_year, category=from_category).first()
    available = source.amount if source else Decimal(0)
    if amount > available:
        raise AmendmentError(_(
            "Year %(year)s, %(category)s has %(available)s in the budget plan: the transfer cannot take %(amount)s from it."
        ) % {"year": from_year, "category": BudgetCategory(from_category).label.lower(),
             "available": formats.money(available), "amount": formats.money(amount)}, code="amount")
    if from_year != to_year:
        for tranche in award.tranches.filter(number__in=(from_year, to_year)):
            if tranche.state != TrancheState.PLANNED:
                raise AmendmentError(_(
                    "Tranche %(number)s is already %(state)s and cannot change: a transfer between years %(from)s "
                    "and %(to)s would need it. Transfer within a year instead."
                ) % {"number": tranche.number, "state": tranche.get_state_display().lower(),
                     "from": from_year, "to": to_year}, code="tranche")
            if tranche.number == from_year and amount > tranche.amount:
                raise AmendmentError(_("Tranche %(number)s is %(tranche)s: it cannot give %(amount)s.") % {
                    "number": tranche.number, "tranche": formats.money(tranche.amount),
                    "amount": formats.money(amount)}, code="tranche")


def _check_institution(award: Award, *, new_institution: str, new_country: str) -> None:
    if not new_institution:
        raise AmendmentError(_("Give the name of the partner's new institution."), code="institution")
    if new_country:
        if new_country not in countries:
            raise AmendmentError(_("Choose the country from the list."), code="country")
        if new_country == "FR":
            raise AmendmentError(_("The partner must work in a country other than France."), code="country")
        if new_country in [c.code for c in award.proposal.call.excluded_countries]:
            raise AmendmentError(_("This call does not accept new collaborations with %(country)s.") % {
                "country": countries.name(new_country)}, code="country")
    country = award.current_partner_country
    if new_institution == award.current_partner_institution and (
            not new_country or new_country == (country.code if country else "")):
        raise AmendmentError(_("This is already the partner's institution."), code="institution")


def amendment_request(*, award_id: int, user, kind: str, reason: str, now: dt.datetime, months: int | None = None,
                      from_year: int | None = None, from_category: str = "", to_year: int | None = None,
                      to_category: str = "", amount: Decimal | None = None, new_institution: str = "",
                      new_country: str = "") -> Amendment:
    """The PI asks for an amendment of an active award; the unit's managers are asked for their opinion."""
    reason, new_institution, new_country = (reason or "").strip(), (new_institution or "").strip(), new_country or ""
    if kind not in AmendmentKind.values:
        raise AmendmentError(_("Choose the kind of amendment."), code="kind")
    with transaction.atomic():
        award = _lock_award(award_id)
        if not is_award_pi(user, award):
            raise AmendmentError(_("Only the award's PI can ask for an amendment."), code="forbidden")
        refusal = amendment_request_refusal(award, kind)
        if refusal:
            raise AmendmentError(refusal, code="refused")
        if not reason:
            raise AmendmentError(_("Give the reason for the amendment."), code="reason")
        fields = {}
        if kind == AmendmentKind.EXTENSION:
            _check_extension(award, months)
            fields = {"months": months, "new_end_date": add_months(award.end_date, months)}
        elif kind == AmendmentKind.TRANSFER:
            fields = {"from_year": from_year, "from_category": from_category, "to_year": to_year,
                      "to_category": to_category, "amount": amount}
            _check_transfer(award, **fields)
        else:
            _check_institution(award, new_institution=new_institution, new_country=new_country)
            fields = {"new_institution": new_institution, "new_country": new_country}
        try:
            with transaction.atomic():
                amendment = Amendment.objects.create(award=award, kind=kind, reason=reason, requested_at=now,
                                                     requested_by=user, **fields)
        except IntegrityError as error:  # the same request twice at once: the constraint keeps one
            raise AmendmentError(_("An amendment of this kind is already waiting for a decision."),
                                 code="refused") from error
        audit_record(actor=user, target=award, action="amendment.request", now=now, to_state=amendment.state,
                     data={"amendment": amendment.pk, "kind": kind, **_audit_fields(fields)}, reason=reason)
        notify_amendment("amendment_requested", amendment, now=now)
    return amendment


def _audit_fields(fields: dict) -> dict:
    return {key: (str(value) if value is not None else None) for key, value in fields.items()}


def _lock_amendment(amendment_id: int) -> Amendment:
    """The award's row first, then the amendment's: every change of an amendment takes them in this order."""
    award = _lock_award(Amendment.objects.values_list("award_id", flat=True).get(pk=amendment_id))
    amendment = Amendment.objects.select_for_update().get(pk=amendment_id)
    amendment.award = award
    return amendment


def _require_open(amendment: Amendment) -> None:
    if not amendment.is_open:
        raise AmendmentError(_("This amendment is already %(state)s.") % {
            "state": amendment.get_state_display().lower()}, code="closed")


def amendment_withdraw(*, amendment_id: int, user, now: dt.datetime) -> Amendment:
    """The PI withdraws an amendment still waiting for a decision."""
    with transaction.atomic():
        amendment = _lock_amendment(amendment_id)
        if not is_award_pi(user, amendment.award):
            raise AmendmentError(_("Only the award's PI can withdraw the amendment."), code="forbidden")
        _require_open(amendment)
        before = amendment.state
        amendment.state, amendment.withdrawn_at = AmendmentState.WITHDRAWN, now
        amendment.save(update_fields=["state", "withdrawn_at"])
        audit_record(actor=user, target=amendment.award, action="amendment.withdraw", now=now, from_state=before,
                     to_state=amendment.state, data={"amendment": amendment.pk, "kind": amendment.kind})
    return amendment


def amendment_give_opinion(*, amendment_id: int, user, opinion: str, comment: str, now: dt.datetime) -> Amendment:
    """A manager of the award's unit gives the unit's opinion (once); the PI is told, and the amendment
    joins the directorate's list of amendments to decide."""
    comment = (comment or "").strip()
    with transaction.atomic():
        amendment = _lock_amendment(amendment_id)
        if not is_award_unit_manager(user, amendment.award):
            raise AmendmentError(_("Only a manager of the award's unit can give the unit's opinion."),
                                 code="forbidden")
        if not awaits_unit_opinion(amendment):
            raise AmendmentError(_("The unit's opinion can be given only while the amendment waits for it; it is "
                                   "%(state)s.") % {"state": amendment.get_state_display().lower()}, code="closed")
        if opinion not in UnitOpinion.values:
            raise AmendmentError(_("Choose favourable or unfavourable."), code="opinion")
        if opinion == UnitOpinion.UNFAVOURABLE and not comment:
            raise AmendmentError(_("Say why the unit's opinion is unfavourable."), code="comment")
        amendment.state = AmendmentState.OPINION
        amendment.opinion, amendment.opinion_comment, amendment.opinion_at, amendment.opinion_by = (
            opinion, comment, now, user)
        amendment.save(update_fields=["state", "opinion", "opinion_comment", "opinion_at", "opinion_by"])
        audit_record(actor=user, target=amendment.award, action="amendment.opinion", now=now,
                     from_state=AmendmentState.REQUESTED, to_state=amendment.state,
                     data={"amendment": amendment.pk, "kind": amendment.kind, "opinion": opinion}, reason=comment)
        notify_amendment("amendment_opinion", amendment, now=now)
    return amendment


def _apply(amendment: Amendment) -> dict:
    """Change the (locked) award as the amendment says, after checking again; what changed, for the audit."""
    award = amendment.award
    if amendment.kind == AmendmentKind.EXTENSION:
        _check_extension(award, amendment.months)
        before = award.end_date
        award.end_date = add_months(award.end_date, amendment.months)
        award.save(update_fields=["end_date"])
        amendment.new_end_date = award.end_date
        return {"end_date": [before.isoformat(), award.end_date.isoformat()]}
    if amendment.kind == AmendmentKind.TRANSFER:
        fields = {name: getattr(amendment, name)
                  for name in ("from_year", "from_category", "to_year", "to_category", "amount")}
        _check_transfer(award, **fields)
        source = AwardBudgetLine.objects.select_for_update().get(award=award, year=amendment.from_year,
                                                                 category=amendment.from_category)
        target, _created = AwardBudgetLine.objects.select_for_update().get_or_create(
            award=award, year=amendment.to_year, category=amendment.to_category)
        source.amount -= amendment.amount
        target.amount += amendment.amount
        source.save(update_fields=["amount"])
        target.save(update_fields=["amount"])
        if amendment.from_year != amendment.to_year:
            # The giving tranche first, so the tranches never add up to more than the award, even for a moment.
            for number, delta in ((amendment.from_year, -amendment.amount), (amendment.to_year, amendment.amount)):
                tranche = Tranche.objects.select_for_update().get(award=award, number=number)
                tranche.amount += delta
                tranche.save(update_fields=["amount"])
        return _audit_fields(fields)
    _check_institution(award, new_institution=amendment.new_institution, new_country=str(amendment.new_country or ""))
    before = [award.current_partner_institution, str(award.current_partner_country or "")]
    award.partner_institution = amendment.new_institution
    award.partner_country = amendment.new_country or award.current_partner_country
    award.save(update_fields=["partner_institution", "partner_country"])
    return {"partner": [before, [award.partner_institution, str(award.partner_country or "")]]}


def amendment_decide(*, amendment_id: int, user, approve: bool, reason: str, now: dt.datetime) -> Amendment:
    """Staff approve or refuse an amendment (a reason is required to refuse). Approval applies it to the
    award and freezes a new version, all in one transaction under the award's lock: of two approvals at once,
    the second finds the amendment decided. The PI and the unit's managers are told."""
    if not is_directorate(user):
        raise AmendmentError(_("Only directorate staff can decide an amendment."), code="forbidden")
    reason = (reason or "").strip()
    if not approve and not reason:
        raise AmendmentError(_("Give the reason for refusing the amendment; the PI will read it."), code="reason")
    with transaction.atomic():
        amendment = _lock_amendment(amendment_id)
        _require_open(amendment)
        if approve and amendment.award.state != AwardState.ACTIVE:
            raise AmendmentError(_("The award is %(state)s: the amendment can only be refused.") % {
                "state": amendment.award.get_state_display().lower()}, code="award_state")
        before = amendment.state
        changes = _apply(amendment) if approve else {}
        amendment.state = AmendmentState.APPROVED if approve else AmendmentState.REFUSED
        amendment.decided_at, amendment.decided_by, amendment.decision_reason = now, user, reason
        amendment.save(update_fields=["state", "decided_at", "decided_by", "decision_reason", "new_end_date"])
        version = award_version_create(award=amendment.award, user=user, now=now, amendment=amendment) if approve else None
        audit_record(actor=user, target=amendment.award, action="amendment.approve" if approve else "amendment.refuse",
                     now=now, from_state=before, to_state=amendment.state, reason=reason,
                     data={"amendment": amendment.pk, "kind": amendment.kind, "changes": changes,
                           "version": version.number if version else None})
        notify_amendment("amendment_decided", amendment, now=now)
    return amendment
