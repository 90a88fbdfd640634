import datetime as dt

from django.conf import settings
from django.utils import timezone

from iea.pdf import render_pdf

from .models import ProposalVersion


def receipt_filename(version: ProposalVersion) -> str:
    return f"receipt-{version.proposal.reference}-v{version.number}.pdf"


def render_receipt(version: ProposalVersion) -> bytes:
    """The submission receipt: the frozen content, the server's timestamp with its UTC offset, the hashes."""
    submitted_local = timezone.localtime(version.submitted_at)
    return render_pdf(
        "pdf/receipt.html",
        {
            "version": version,
            "proposal": version.proposal,
            "content": version.content,
            "submitted_local": submitted_local,
            "submitted_iso": submitted_local.isoformat(timespec="seconds"),
            "submitted_utc": version.submitted_at.astimezone(dt.UTC).isoformat(timespec="seconds"),
            "organisation": settings.ORGANISATION_NAME,
        },
    )
