"""The rules of a proposal: creating, saving drafts, the support letter, eligibility, submission, withdrawal.

Views, admin actions, the API and tasks call these functions; none re-implements a rule. Every state
change locks the proposal row, writes its audit entry in the same transaction, and queues its mail
with ``delay_on_commit``. ``now`` is always an argument, so tests pin the clock.
"""

import datetime as dt
import hashlib
import json
import secrets
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from calls.domain import call_accepts_submissions, call_deadline
from calls.models import Call
from iea.audit.domain import audit_record

from .letters import CheckedPdf
from .models import (
    ACTIVE_STATES,
    EDITABLE_STATES,
    BudgetCategory,
    BudgetLine,
    PartnerInvitation,
    Proposal,
    ProposalState,
    ProposalVersion,
    SupportLetter,
    TeamMember,
    TeamSide,
)

# The fields the PI edits in the main form, saved together under one lock version.
DRAFT_FIELDS = [
    "title", "acronym", "abstract", "keywords", "unit", "evaluating_institute", "partner_name", "partner_email",
    "partner_institution", "partner_country", "activities", "ethics_statement",
]
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


class ProposalError(ValidationError):
    """A rule refused the request; the message is for the user, in their language.

    ``code`` is kept even when the message is a list (Django's ValidationError drops it then)."""

    def __init__(self, message, code=None, params=None):
        super().__init__(message, code=code, params=params)
        self.code = code


def _require_pi(proposal: Proposal, user) -> None:
    if user is None or proposal.pi_id != getattr(user, "pk", None):
        raise ProposalError(_("Only the PI can change this proposal."), code="forbidden")


def _now_editable(proposal: Proposal, *, now: dt.datetime) -> None:
    if proposal.state not in EDITABLE_STATES:
        raise ProposalError(
            _("This proposal is %(state)s and can no longer be changed.")
            % {"state": proposal.get_state_display().lower()},
            code="not_editable",
        )
    if not call_accepts_submissions(proposal.call, now=now):
        raise ProposalError(
            _("The call closed on %(deadline)s (Paris time); the proposal can no longer be changed.")
            % {"deadline": format_paris(call_deadline(proposal.call))},
            code="closed",
        )


def format_paris(moment: dt.datetime) -> str:
    from django.utils import timezone
    from django.utils.formats import date_format

    return date_format(timezone.localtime(moment), "j F Y, H:i")


def _lock(proposal_id: int) -> Proposal:
    # of=("self",): PostgreSQL cannot lock the nullable side of the outer join to the unit.
    return Proposal.objects.select_for_update(of=("self",)).select_related("call", "unit").get(pk=proposal_id)


def _new_reference(call: Call) -> str:
    return f"IEA{call.year % 100:02d}-{secrets.token_hex(4).upper()}"


def active_proposal_count(*, call: Call, pi) -> int:
    return Proposal.objects.filter(call=call, pi=pi, state__in=ACTIVE_STATES).count()


def proposal_create(*, call_id: int, pi, now: dt.datetime) -> Proposal:
    """Start a draft in an open call. A PI may hold at most ``max_active_proposals_per_pi`` active
    proposals in a call (domain.md, default 1); the call row is locked so two tabs cannot both pass."""
    with transaction.atomic():
        call = Call.objects.select_for_update().get(pk=call_id)
        if not call_accepts_submissions(call, now=now):
            raise ProposalError(_("This call does not accept proposals at the moment."), code="closed")
        if active_proposal_count(call=call, pi=pi) >= call.max_active_proposals_per_pi:
            raise ProposalError(
                ngettext(
                    "You already have %(count)s active proposal in this call, the most it allows.",
                    "You already have %(count)s active proposals in this call, the most it allows.",
                    call.max_active_proposals_per_pi,
                )
                % {"count": call.max_active_proposals_per_pi},
                code="limit",
            )
        for attempt in range(5):
            try:
                with transaction.atomic():
                    proposal = Proposal.objects.create(
                        call=call, pi=pi, reference=_new_reference(call), created_at=now, updated_at=now,
                    )
                break
            except IntegrityError:
                # 32 random bits: a clash is rare at 5,000 proposals a call, and a new draw fixes it.
                if attempt == 4:
                    raise
        BudgetLine.objects.bulk_create(
            BudgetLine(proposal=proposal, year=year, category=category)
            for year in range(1, call.budget_years + 1)
            for category in BudgetCategory.values
        )
        audit_record(actor=pi, target=proposal, action="proposal.create", now=now, to_state=proposal.state)
    return proposal


@dataclass
class SaveResult:
    saved: bool
    proposal: Proposal
    # On a conflict: the moment of the other save and the fields whose stored value differs from this form.
    conflict_at: dt.datetime | None = None
    conflicting_fields: list[str] = field(default_factory=list)


def proposal_save_draft(
    *, proposal_id: int, user, data: dict, budget: dict[tuple[int, str], Decimal], lock_version: int,
    now: dt.datetime,
) -> SaveResult:
    """Save the PI's form. ``lock_version`` is the version the form was loaded with: if another tab
    saved since, nothing is written and the caller is told which fields differ, so the user's text
    stays in their form and nothing is silently overwritten."""
    with transaction.atomic():
        proposal = _lock(proposal_id)
        _require_pi(proposal, user)
        _now_editable(proposal, now=now)
        if proposal.lock_version != lock_version:
            differing = [name for name, value in data.items() if _field_value(proposal, name) != _plain(value)]
            stored = {(line.year, line.category): line.amount for line in proposal.budget_lines.all()}
            if any(stored.get(key) != value for key, value in budget.items()):
                differing.append("budget")
            return SaveResult(saved=False, proposal=proposal, conflict_at=proposal.updated_at, conflicting_fields=differing)
        changed = [name for name, value in data.items() if _field_value(proposal, name) != _plain(value)]
        for name in changed:
            setattr(proposal, name, data[name])
        budget_changed = _save_budget(proposal, budget)
        if not changed and not budget_changed:
            return SaveResult(saved=True, proposal=proposal)
        proposal.lock_version += 1
        proposal.updated_at = now
        fields = [*changed, "lock_version", "updated_at"]
        if proposal.state == ProposalState.SUBMITTED:
            proposal.has_unsubmitted_changes = True
            fields.append("has_unsubmitted_changes")
        proposal.save(update_fields=fields)
    return SaveResult(saved=True, proposal=proposal)


def _plain(value):
    return getattr(value, "pk", value) if value is not None else None


def _field_value(proposal: Proposal, name: str):
    model_field = Proposal._meta.get_field(name)
    if model_field.is_relation:
        return getattr(proposal, model_field.attname)
    value = getattr(proposal, name)
    return str(value) if name == "partner_country" else value


def _save_budget(proposal: Proposal, budget: dict[tuple[int, str], Decimal]) -> bool:
    lines = {(line.year, line.category): line for line in proposal.budget_lines.all()}
    dirty = []
    for key, amount in budget.items():
        line = lines.get(key)
        if line is not None and line.amount != amount:
            line.amount = amount
            dirty.append(line)
    if dirty:
        BudgetLine.objects.bulk_update(dirty, ["amount"])
    return bool(dirty)


def _touch(proposal: Proposal, *, now: dt.datetime) -> None:
    """Record that the content changed outside the main form (team, letter).

    ``lock_version`` guards the main form's fields only: adding a team member in one tab must not make
    the text typed in another tab conflict, since neither overwrites the other."""
    proposal.updated_at = now
    fields = ["updated_at"]
    if proposal.state == ProposalState.SUBMITTED:
        proposal.has_unsubmitted_changes = True
        fields.append("has_unsubmitted_changes")
    proposal.save(update_fields=fields)


def team_member_add(*, proposal_id: int, user, now: dt.datetime, **fields) -> TeamMember:
    with transaction.atomic():
        proposal = _lock(proposal_id)
        _require_pi(proposal, user)
        _now_editable(proposal, now=now)
        member = TeamMember.objects.create(proposal=proposal, **fields)
        _touch(proposal, now=now)
    return member


def team_member_remove(*, proposal_id: int, member_id: int, user, now: dt.datetime) -> None:
    with transaction.atomic():
        proposal = _lock(proposal_id)
        _require_pi(proposal, user)
        _now_editable(proposal, now=now)
        deleted, _detail = TeamMember.objects.filter(proposal=proposal, pk=member_id).delete()
        if deleted:
            _touch(proposal, now=now)


def letter_attach(
    *, proposal_id: int, pdf: CheckedPdf, now: dt.datetime, user=None, invitation: PartnerInvitation | None = None,
    cofunding: bool = False, cofunding_amount: Decimal | None = None, cofunding_currency: str = "",
) -> SupportLetter:
    """Store a checked support letter (see ``letters.check_pdf``) for the PI or the invited partner.

    The previous letter stays stored: a submitted version may point to it.
    """
    if cofunding and cofunding_amount is None:
        raise ProposalError(_("State the co-funding amount, or untick co-funding."), code="cofunding")
    with transaction.atomic():
        proposal = _lock(proposal_id)
        if invitation is None:
            _require_pi(proposal, user)
        elif invitation.proposal_id != proposal.pk or invitation.revoked_at is not None or now >= invitation.expires_at:
            raise ProposalError(_("This invitation link no longer gives access to the proposal."), code="forbidden")
        _now_editable(proposal, now=now)
        letter = SupportLetter(
            proposal=proposal, original_name=pdf.display_name, size=pdf.size, sha256=pdf.sha256, pages=pdf.pages,
            cofunding=cofunding, cofunding_amount=cofunding_amount if cofunding else None,
            cofunding_currency=(cofunding_currency or "").upper()[:3] if cofunding else "",
            uploaded_at=now, uploaded_by=user, uploaded_by_partner=invitation is not None,
        )
        letter.file.save("letter.pdf", ContentFile(pdf.content), save=False)
        try:
            letter.save()
        except Exception:
            letter.file.delete(save=False)
            raise
        _touch(proposal, now=now)
        audit_record(
            actor=user, target=proposal, action="proposal.letter_upload", now=now,
            actor_label=_partner_label(invitation),
            data={"sha256": pdf.sha256, "size": pdf.size, "name": pdf.display_name},
        )
        if invitation is not None:
            from .tasks import send_letter_received

            send_letter_received.delay_on_commit(proposal.pk)
    return letter


def _partner_label(invitation: PartnerInvitation | None) -> str:
    return f"partner <{invitation.email}> via invitation #{invitation.pk}" if invitation else ""


def current_letter(proposal: Proposal) -> SupportLetter | None:
    return proposal.letters.order_by("-uploaded_at", "-id").first()


# --- Eligibility -------------------------------------------------------------------------------------------


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
        allowed = {proposal.unit.main_institute_id, *(i.pk for i in proposal.unit.secondary_institutes.all())}
        institute_ok = proposal.evaluating_institute_id in allowed
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
        _("The total is %(total)s €; it must be between %(min)s € and %(max)s €.")
        % {"total": format_money(total), "min": format_money(call.budget_min), "max": format_money(call.budget_max)},
    ))
    has_partner_side = any(m.side == TeamSide.PARTNER for m in proposal.team.all())
    has_cnrs_side = any(m.side == TeamSide.CNRS for m in proposal.team.all())
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
    if as_submitted:
        submitted = proposal.submitted_at
        open_ok = submitted is not None and call.opens_at <= submitted < call_deadline(call)
    else:
        open_ok = call_accepts_submissions(call, now=now)
    checks.append(Check(
        "deadline", _("The call accepts submissions"), open_ok,
        _("Deadline: %(deadline)s (Paris time).") % {"deadline": format_paris(call_deadline(call))},
    ))
    return checks


def format_money(amount: Decimal) -> str:
    from django.contrib.humanize.templatetags.humanize import intcomma

    return intcomma(f"{amount:.2f}".rstrip("0").rstrip(".") if amount == amount.to_integral() else f"{amount:.2f}")


def proposal_budget_total(proposal: Proposal) -> Decimal:
    lines = getattr(proposal, "_prefetched_objects_cache", {}).get("budget_lines")
    if lines is not None:
        return sum((line.amount for line in lines), Decimal(0))
    return proposal.budget_lines.aggregate(total=Sum("amount"))["total"] or Decimal(0)


def proposal_is_eligible(checks: list[Check]) -> bool:
    return all(check.ok for check in checks)


# --- Submission --------------------------------------------------------------------------------------------


def proposal_snapshot(proposal: Proposal, letter: SupportLetter) -> dict:
    """The content a version freezes. Its SHA-256 tells whether anything changed since the last submission."""
    return {
        "reference": proposal.reference,
        "call": proposal.call.year,
        "title": proposal.title,
        "acronym": proposal.acronym,
        "abstract": proposal.abstract,
        "keywords": proposal.keywords,
        "unit": proposal.unit.code if proposal.unit_id else "",
        "unit_name": proposal.unit.name if proposal.unit_id else "",
        "institute": proposal.institute.code if proposal.institute else "",
        "partner": {
            "name": proposal.partner_name,
            "email": proposal.partner_email,
            "institution": proposal.partner_institution,
            "country": proposal.partner_country.code,
        },
        "team": [
            {"side": m.side, "name": m.name, "email": m.email, "position": m.position, "institution": m.institution,
             "early_career": m.early_career}
            for m in proposal.team.order_by("side", "id")
        ],
        "activities": proposal.activities,
        "ethics_statement": proposal.ethics_statement,
        "budget": [
            {"year": line.year, "category": line.category, "amount": f"{line.amount:.2f}"}
            for line in proposal.budget_lines.order_by("year", "category")
        ],
        "budget_total": f"{proposal_budget_total(proposal):.2f}",
        "letter": {
            "name": letter.original_name, "sha256": letter.sha256, "size": letter.size, "cofunding": letter.cofunding,
            "cofunding_amount": f"{letter.cofunding_amount:.2f}" if letter.cofunding_amount is not None else None,
            "cofunding_currency": letter.cofunding_currency,
        },
    }


def content_hash(content: dict) -> str:
    return hashlib.sha256(json.dumps(content, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


@dataclass(frozen=True)
class SubmitResult:
    version: ProposalVersion
    created: bool


def proposal_submit(*, proposal_id: int, user, now: dt.datetime) -> SubmitResult:
    """Submit (or re-submit) a proposal and freeze a version with the SHA-256 of its content and letter.

    The deadline is checked against ``now``, the moment of the request, grace included. The proposal row
    is locked, and a submission whose content equals the last version returns that version: a double
    click, a second tab or a retried request gives one submission. The unique (proposal, number)
    constraint backs this up on databases without row locks.
    """
    try:
        with transaction.atomic():
            proposal = _lock(proposal_id)
            if proposal.pi_id != user.pk:
                raise ProposalError(_("Only the PI can submit this proposal."), code="forbidden")
            last = proposal.versions.order_by("-number").first()
            letter = current_letter(proposal)
            if last is not None and letter is not None and proposal.state == ProposalState.SUBMITTED:
                snapshot = proposal_snapshot(proposal, letter)
                if content_hash(snapshot) == last.content_sha256:
                    if proposal.has_unsubmitted_changes:
                        # The edits since the last submission were undone: nothing is left to submit.
                        proposal.has_unsubmitted_changes = False
                        proposal.save(update_fields=["has_unsubmitted_changes"])
                    return SubmitResult(version=last, created=False)
            _now_editable(proposal, now=now)
            failing = [c for c in proposal_checklist(proposal, now=now, letter=letter) if not c.ok]
            if failing:
                raise ProposalError(
                    [_("%(rule)s: %(detail)s") % {"rule": c.label, "detail": c.detail} if c.detail else c.label for c in failing],
                    code="ineligible",
                )
            snapshot = proposal_snapshot(proposal, letter)
            version = ProposalVersion.objects.create(
                proposal=proposal, number=(last.number + 1) if last else 1, submitted_at=now, submitted_by=user,
                content=snapshot, content_sha256=content_hash(snapshot), letter=letter,
            )
            before = proposal.state
            proposal.state = ProposalState.SUBMITTED
            proposal.submitted_at = now
            proposal.has_unsubmitted_changes = False
            proposal.save(update_fields=["state", "submitted_at", "has_unsubmitted_changes"])
            audit_record(
                actor=user, target=proposal, action="proposal.submit" if last is None else "proposal.resubmit",
                now=now, from_state=before, to_state=proposal.state,
                data={"version": version.number, "content_sha256": version.content_sha256, "letter_sha256": letter.sha256},
            )
            from .tasks import send_receipt

            send_receipt.delay_on_commit(version.pk)
    except IntegrityError:
        # Another request froze the same content at the same moment; its version is this submission.
        version = ProposalVersion.objects.filter(proposal_id=proposal_id).order_by("-number").first()
        if version is None:
            raise
        return SubmitResult(version=version, created=False)
    return SubmitResult(version=version, created=True)


def proposal_withdraw(*, proposal_id: int, user, now: dt.datetime, reason: str = "") -> Proposal:
    """The PI withdraws a draft or a submitted proposal while the call is open. It then no longer
    counts against the PI's limit, and it can never be submitted again."""
    with transaction.atomic():
        proposal = _lock(proposal_id)
        if proposal.pi_id != user.pk:
            raise ProposalError(_("Only the PI can withdraw this proposal."), code="forbidden")
        _now_editable(proposal, now=now)
        before = proposal.state
        proposal.state = ProposalState.WITHDRAWN
        proposal.updated_at = now
        proposal.lock_version += 1
        proposal.save(update_fields=["state", "updated_at", "lock_version"])
        audit_record(
            actor=user, target=proposal, action="proposal.withdraw", now=now, from_state=before,
            to_state=proposal.state, reason=reason,
        )
        if before == ProposalState.SUBMITTED:
            from .tasks import send_withdrawal_notice

            send_withdrawal_notice.delay_on_commit(proposal.pk)
    return proposal


# --- Partner invitations -----------------------------------------------------------------------------------

_INVITATION_SALT = "proposals.partner-invitation"


def invitation_token(invitation: PartnerInvitation) -> str:
    """The link's secret: the invitation's random nonce, signed with the site's key."""
    return signing.Signer(salt=_INVITATION_SALT).sign(invitation.nonce)


def invitation_create(*, proposal_id: int, user, email: str, language: str, now: dt.datetime) -> PartnerInvitation:
    """Invite the foreign partner by e-mail. Earlier links of this proposal stop working.

    The link expires after ``PARTNER_INVITATION_DAYS`` or at the call's deadline, whichever comes first.
    """
    with transaction.atomic():
        proposal = _lock(proposal_id)
        if proposal.pi_id != user.pk:
            raise ProposalError(_("Only the PI can invite the partner."), code="forbidden")
        _now_editable(proposal, now=now)
        proposal.invitations.filter(revoked_at__isnull=True).update(revoked_at=now)
        expires_at = min(now + dt.timedelta(days=settings.PARTNER_INVITATION_DAYS), call_deadline(proposal.call))
        invitation = PartnerInvitation.objects.create(
            proposal=proposal, email=email.lower(), language=language, created_at=now, created_by=user,
            expires_at=expires_at,
        )
        audit_record(actor=user, target=proposal, action="proposal.invite_partner", now=now, data={"email": email})
        from .tasks import send_partner_invitation

        send_partner_invitation.delay_on_commit(invitation.pk)
    return invitation


class InvitationInvalid(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def invitation_resolve(token: str, *, now: dt.datetime) -> PartnerInvitation:
    """The invitation a link stands for, if it is genuine, not revoked and not expired."""
    try:
        nonce = signing.Signer(salt=_INVITATION_SALT).unsign(token)
    except signing.BadSignature:
        raise InvitationInvalid(_("This invitation link is not valid. Check that you copied it whole.")) from None
    invitation = PartnerInvitation.objects.select_related("proposal__call", "proposal__pi").filter(nonce=nonce).first()
    if invitation is None:
        raise InvitationInvalid(_("This invitation link is not valid. Check that you copied it whole."))
    if invitation.revoked_at is not None:
        raise InvitationInvalid(_("This invitation was replaced by a newer one. Use the link in the latest e-mail."))
    if now >= invitation.expires_at:
        raise InvitationInvalid(_("This invitation has expired. Ask the PI to send a new one."))
    return invitation
