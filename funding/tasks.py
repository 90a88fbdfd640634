"""Thin tasks for funding mails: ids in, load, render, send in the recipient's language."""

from celery import shared_task
from django.urls import reverse

from iea.mail import send_templated

from .models import CosignInvitation, Report, Tranche


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_tranche_notice(tranche_id: int) -> None:
    """Tranche released or withheld: to the PI and the unit managers (domain.md, notifications)."""
    tranche = Tranche.objects.select_related("award__proposal__pi", "award__unit").get(pk=tranche_id)
    award = tranche.award
    recipients = [award.proposal.pi, *award.unit.managers.all()]
    for user in recipients:
        send_templated(
            name="tranche_notice", to=[user.email], language=user.language,
            context={"tranche": tranche, "award": award, "proposal": award.proposal,
                     "url": reverse("funding:award", kwargs={"pk": award.pk})},
        )


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_cosign_invitation(invitation_id: int) -> None:
    from .domain.reports import cosign_token

    invitation = CosignInvitation.objects.select_related("report__award__proposal__pi").get(pk=invitation_id)
    if invitation.revoked_at is not None:
        return
    report = invitation.report
    send_templated(
        name="report_cosign", to=[invitation.email], language="en",
        context={"invitation": invitation, "report": report, "proposal": report.award.proposal,
                 "url": reverse("funding:cosign", kwargs={"token": cosign_token(invitation)})},
    )


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_report_cosigned(report_id: int) -> None:
    """The partner co-signed: the PI knows the report now waits for approval."""
    report = Report.objects.select_related("award__proposal__pi").get(pk=report_id)
    pi = report.award.proposal.pi
    send_templated(
        name="report_cosigned", to=[pi.email], language=pi.language,
        context={"report": report, "proposal": report.award.proposal,
                 "url": reverse("funding:award", kwargs={"pk": report.award_id})},
    )


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_report_reviewed(report_id: int) -> None:
    report = Report.objects.select_related("award__proposal__pi").get(pk=report_id)
    pi = report.award.proposal.pi
    send_templated(
        name="report_reviewed", to=[pi.email], language=pi.language,
        context={"report": report, "proposal": report.award.proposal,
                 "url": reverse("funding:award", kwargs={"pk": report.award_id})},
    )
