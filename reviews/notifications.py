"""Thin tasks for the directorate's mails: ineligibility after screening, and the decisions.

Ids in, load, render, send — in the recipient's language. The domain functions queue them with
``delay_on_commit``, so nothing leaves unless the change it reports is committed.
"""

from celery import shared_task
from django.urls import reverse

from iea.mail import send_templated
from proposals.models import Proposal, ProposalState

from .domain.decisions import evaluation_summary_filename, evaluation_summary_pdf
from .models import Decision


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_screening_ineligible(proposal_id: int, reason: str) -> None:
    proposal = Proposal.objects.select_related("pi", "call").get(pk=proposal_id)
    if proposal.state != ProposalState.INELIGIBLE:
        return
    send_templated(
        name="screening_ineligible", to=[proposal.pi.email], language=proposal.pi.language,
        context={"proposal": proposal, "reason": reason,
                 "url": reverse("proposals:detail", kwargs={"pk": proposal.pk})},
    )


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_decision_mail(decision_id: int) -> None:
    """The decision to the PI (their language), the partner (English) and the managers of the PI's unit
    (their language; domain.md: "decision → PI, partner, unit"), each with the evaluation summary in the
    same language."""
    decision = Decision.objects.select_related("proposal__pi", "proposal__call", "proposal__unit").get(pk=decision_id)
    proposal = decision.proposal
    filename = evaluation_summary_filename(proposal)
    context = {"proposal": proposal, "decision": decision}
    language = proposal.pi.language
    send_templated(
        name="decision", to=[proposal.pi.email], language=language,
        context={**context, "url": reverse("proposals:detail", kwargs={"pk": proposal.pk})},
        attachments=[(filename, evaluation_summary_pdf(proposal=proposal, language=language), "application/pdf")],
    )
    if proposal.partner_email:
        send_templated(
            name="decision_partner", to=[proposal.partner_email], language="en", context=context,
            attachments=[(filename, evaluation_summary_pdf(proposal=proposal, language="en"), "application/pdf")],
        )
    if proposal.unit_id:
        for manager in proposal.unit.managers.all():
            send_templated(
                name="decision_unit", to=[manager.email], language=manager.language, context=context,
                attachments=[(filename, evaluation_summary_pdf(proposal=proposal, language=manager.language),
                              "application/pdf")],
            )


# Celery's autodiscovery imports only ``<app>.tasks``: reviews/tasks.py imports this module so that the
# workers register these tasks.
