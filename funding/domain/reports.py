"""The annual reports: after year 1 and at the end, the PI writes the scientific review and the financial
report (spending by category, the partner's co-funding actually received); the partner co-signs through
an invitation link; staff or the institute officer approve it or ask for changes. Approving the year-1
reports opens the gate of tranche 2; approving the final report closes the award.
"""

import datetime as dt
import hashlib
from decimal import Decimal

from django.conf import settings
from django.core import signing
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils.translation import gettext as _

from iea.audit.domain import audit_record
from iea.files import delete_on_commit
from proposals.models import BudgetCategory

from ..models import (
    EDITABLE_REPORT_STATES,
    CosignInvitation,
    Report,
    ReportPeriod,
    ReportSpending,
    ReportState,
)
from ..rules import can_review_reports, is_award_pi
from .awards import FundingError, add_months, award_close
from .mail import notify_cosign, notify_report


def report_due(award, period: str) -> dt.date:
    """The year-1 report is due 12 months after the start, the final report at the end date (the
    reminders ask this too)."""
    return add_months(award.start_date, 12) if period == ReportPeriod.YEAR_1 else award.end_date
_SALT = "funding.report-cosign"


def _lock(report_id: int) -> Report:
    return Report.objects.select_for_update(of=("self",)).select_related("award__proposal", "award__unit").get(pk=report_id)


def _edit_refused(report: Report) -> FundingError | None:
    """Why ``Report.editable`` says no, as the error a change raises; None when the PI may change it."""
    if report.editable:
        return None
    if report.state not in EDITABLE_REPORT_STATES:
        return FundingError(_("This report is %(state)s; it can no longer be changed.") % {
            "state": report.get_state_display().lower()}, code="locked")
    return FundingError(_("The award is not active."), code="inactive")


def report_edit_refusal(report: Report) -> str:
    """Why the PI cannot change the report now ("" when they can): the check ``report_save`` makes, for a
    page that must say it. The rule is ``Report.editable``: a report in the PI's hands, of an active award."""
    refused = _edit_refused(report)
    return refused.messages[0] if refused is not None else ""


def report_save(
    *, report_id: int, user, scientific_review: str, spending: dict[str, Decimal], cofunding_received: Decimal | None,
    cofunding_currency: str, now: dt.datetime, scientific_pdf=None,
) -> Report:
    """The PI saves the report while it is a draft or changes were requested. ``scientific_pdf`` is a
    ``proposals.letters.CheckedPdf`` (checked by content like the support letter); the PDF it replaces is
    deleted once the transaction commits (nothing else refers to it), and on a refusal the new one is not
    kept either."""
    with transaction.atomic():
        report = _lock(report_id)
        if not is_award_pi(user, report.award):
            raise FundingError(_("Only the PI files the reports."), code="forbidden")
        refused = _edit_refused(report)
        if refused is not None:
            raise refused
        if any((amount or Decimal(0)) < 0 for amount in spending.values()):
            raise FundingError(_("Spending cannot be negative."), code="negative")
        report.scientific_review = (scientific_review or "").strip()
        report.cofunding_received = cofunding_received
        report.cofunding_currency = (cofunding_currency or "").strip().upper()[:3]
        report.updated_at = now
        fields = ["scientific_review", "cofunding_received", "cofunding_currency", "updated_at"]
        if scientific_pdf is not None:
            replaced = report.scientific_pdf.name
            report.scientific_pdf.save("review.pdf", ContentFile(scientific_pdf.content), save=False)
            report.scientific_pdf_sha256 = scientific_pdf.sha256
            fields += ["scientific_pdf", "scientific_pdf_sha256"]
            delete_on_commit([replaced])
        try:
            report.save(update_fields=fields)
            for category in BudgetCategory.values:
                amount = spending.get(category) or Decimal(0)
                ReportSpending.objects.update_or_create(report=report, category=category, defaults={"amount": amount})
            audit_record(actor=user, target=report, action="report.save", now=now)
        except Exception:
            if scientific_pdf is not None:
                report.scientific_pdf.delete(save=False)
            raise
    return report


def report_missing(report: Report) -> list[str]:
    missing = []
    if not report.scientific_review.strip() and not report.scientific_pdf:
        missing.append(_("the scientific review (text or PDF)"))
    if not any(line.amount for line in report.spending.all()):
        missing.append(_("the spending by category"))
    return missing


def cosign_token(invitation: CosignInvitation) -> str:
    return signing.Signer(salt=_SALT).sign(invitation.nonce)


def report_submit(*, report_id: int, user, now: dt.datetime) -> Report:
    """The PI submits the report; the partner is invited to co-sign it (the earlier links stop working)."""
    with transaction.atomic():
        report = _lock(report_id)
        if not is_award_pi(user, report.award):
            raise FundingError(_("Only the PI files the reports."), code="forbidden")
        # The report's state only, not ``Report.editable``: unlike saving, submitting does not ask that the
        # award be active, so a report finished before its award was suspended can still go to the partner.
        if report.state not in EDITABLE_REPORT_STATES:
            raise FundingError(_("This report was already submitted."), code="submitted")
        missing = report_missing(report)
        if missing:
            raise FundingError(_("Still missing: %(items)s.") % {"items": ", ".join(missing)}, code="incomplete")
        proposal = report.award.proposal
        if not proposal.partner_email:
            raise FundingError(_("The proposal has no partner e-mail for the co-signature."), code="no_partner")
        before = report.state
        report.state, report.submitted_at = ReportState.SUBMITTED, now
        report.save(update_fields=["state", "submitted_at"])
        report.cosign_invitations.filter(revoked_at__isnull=True).update(revoked_at=now)
        invitation = CosignInvitation.objects.create(
            report=report, email=proposal.partner_email, created_at=now,
            expires_at=now + dt.timedelta(days=settings.PARTNER_INVITATION_DAYS),
        )
        audit_record(actor=user, target=report, action="report.submit", now=now, from_state=before, to_state=report.state)
        notify_cosign(invitation, now=now)
    return report


class CosignLinkInvalid(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def cosign_resolve(token: str, *, now: dt.datetime) -> CosignInvitation:
    try:
        nonce = signing.Signer(salt=_SALT).unsign(token)
    except signing.BadSignature:
        raise CosignLinkInvalid(_("This link is not valid. Check that you copied it whole.")) from None
    invitation = CosignInvitation.objects.select_related("report__award__proposal__pi").filter(nonce=nonce).first()
    if invitation is None:
        raise CosignLinkInvalid(_("This link is not valid. Check that you copied it whole."))
    if invitation.revoked_at is not None:
        raise CosignLinkInvalid(_("This link was replaced by a newer one. Use the link in the latest e-mail."))
    if now >= invitation.expires_at:
        raise CosignLinkInvalid(_("This link has expired. Ask the PI to submit the report again."))
    return invitation


def report_cosign(*, invitation: CosignInvitation, signer_name: str, now: dt.datetime) -> Report:
    """The partner co-signs the submitted report through their link."""
    signer_name = (signer_name or "").strip()
    if not signer_name:
        raise FundingError(_("Type your name to sign."), code="name")
    with transaction.atomic():
        report = _lock(invitation.report_id)
        if report.state != ReportState.SUBMITTED:
            raise FundingError(_("This report is not waiting for a co-signature."), code="state")
        before = report.state
        report.state, report.cosigned_at, report.cosigned_by = ReportState.COSIGNED, now, f"{signer_name} <{invitation.email}>"
        report.save(update_fields=["state", "cosigned_at", "cosigned_by"])
        invitation.revoked_at = now
        invitation.save(update_fields=["revoked_at"])
        audit_record(actor=None, actor_label=f"partner <{invitation.email}> via link #{invitation.pk}", target=report,
                     action="report.cosign", now=now, from_state=before, to_state=report.state)
        notify_report("report_cosigned", report, now=now)
    return report


def report_cosign_decline(*, invitation: CosignInvitation, signer_name: str, comment: str, now: dt.datetime) -> Report:
    """The partner declines to co-sign the submitted report, saying why. The report goes back to the PI,
    who can change it and submit it again (a new link is then sent); the PI is told by mail with the
    comment, which the report's page also shows. The link stops working."""
    signer_name, comment = (signer_name or "").strip(), (comment or "").strip()
    if not signer_name:
        raise FundingError(_("Type your name."), code="name")
    if not comment:
        raise FundingError(_("Say why you do not co-sign, so that the PI can address it."), code="comment")
    with transaction.atomic():
        report = _lock(invitation.report_id)
        invitation = CosignInvitation.objects.select_for_update().get(pk=invitation.pk)
        if report.state != ReportState.SUBMITTED or invitation.revoked_at is not None:
            raise FundingError(_("This report is not waiting for a co-signature."), code="state")
        before = report.state
        report.state = ReportState.COSIGN_DECLINED
        report.cosign_declined_at, report.cosign_declined_by = now, f"{signer_name} <{invitation.email}>"
        report.cosign_decline_comment = comment
        report.save(update_fields=["state", "cosign_declined_at", "cosign_declined_by", "cosign_decline_comment"])
        invitation.revoked_at = now
        invitation.save(update_fields=["revoked_at"])
        audit_record(actor=None, actor_label=f"partner <{invitation.email}> via link #{invitation.pk}", target=report,
                     action="report.cosign_decline", now=now, from_state=before, to_state=report.state, reason=comment)
        notify_report("report_cosign_declined", report, now=now)
    return report


def report_review(*, report_id: int, user, approve: bool, comment: str, now: dt.datetime) -> Report:
    """Staff or the institute officer approve the co-signed report, or ask for changes with a comment.
    Approving the final report closes the award."""
    comment = (comment or "").strip()
    with transaction.atomic():
        report = _lock(report_id)
        if not can_review_reports(user, report.award):
            raise FundingError(_("Only directorate staff or the institute's officer review reports."), code="forbidden")
        if report.state != ReportState.COSIGNED:
            raise FundingError(_("Only a co-signed report can be reviewed; this one is %(state)s.") % {
                "state": report.get_state_display().lower()}, code="state")
        if not approve and not comment:
            raise FundingError(_("Say what must change."), code="comment")
        before = report.state
        report.state = ReportState.APPROVED if approve else ReportState.CHANGES_REQUESTED
        report.reviewed_at, report.reviewed_by, report.review_comment = now, user, comment
        report.save(update_fields=["state", "reviewed_at", "reviewed_by", "review_comment"])
        audit_record(actor=user, target=report, action="report.approve" if approve else "report.changes", now=now,
                     from_state=before, to_state=report.state, reason=comment)
        notify_report("report_reviewed", report, now=now)
        if approve and report.period == ReportPeriod.FINAL:
            # In the same transaction: an approved final report and a closed award go together.
            award_close(award_id=report.award_id, user=user, now=now)
    return report


def file_sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()
