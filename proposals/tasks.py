"""Thin tasks: ids in, load, render, send. Mail for the receipts and the partner's invitation."""

from celery import shared_task
from django.urls import reverse
from django.utils import translation

from iea.mail import send_templated

from .models import PartnerInvitation, Proposal, ProposalVersion
from .receipts import receipt_filename, render_receipt


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_receipt(version_id: int) -> None:
    version = ProposalVersion.objects.select_related("proposal__pi", "proposal__call", "letter").get(pk=version_id)
    proposal = version.proposal
    language = proposal.pi.language
    with translation.override(language):
        pdf = render_receipt(version)
    recipients = [proposal.pi.email]
    send_templated(
        name="receipt", to=recipients, language=language,
        context={"proposal": proposal, "version": version,
                 "url": reverse("proposals:detail", kwargs={"pk": proposal.pk})},
        attachments=[(receipt_filename(version), pdf, "application/pdf")],
    )
    if proposal.partner_email:
        send_templated(
            name="receipt_partner", to=[proposal.partner_email], language="en",
            context={"proposal": proposal, "version": version},
        )


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_withdrawal_notice(proposal_id: int) -> None:
    proposal = Proposal.objects.select_related("pi", "call").get(pk=proposal_id)
    send_templated(name="withdrawn", to=[proposal.pi.email], language=proposal.pi.language, context={"proposal": proposal})


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_partner_invitation(invitation_id: int) -> None:
    from .domain import invitation_token

    invitation = PartnerInvitation.objects.select_related("proposal__pi", "proposal__call").get(pk=invitation_id)
    if invitation.revoked_at is not None:
        return
    send_templated(
        name="partner_invitation", to=[invitation.email], language=invitation.language,
        context={
            "invitation": invitation, "proposal": invitation.proposal,
            "url": reverse("proposals:partner", kwargs={"token": invitation_token(invitation)}),
        },
    )


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_letter_received(proposal_id: int) -> None:
    proposal = Proposal.objects.select_related("pi").get(pk=proposal_id)
    send_templated(
        name="letter_received", to=[proposal.pi.email], language=proposal.pi.language,
        context={"proposal": proposal, "url": reverse("proposals:edit", kwargs={"pk": proposal.pk})},
    )
