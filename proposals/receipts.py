from django.conf import settings

from iea import formats
from iea.pdf import render_pdf

from .models import ProposalVersion


def receipt_filename(version: ProposalVersion) -> str:
    return f"receipt-{version.proposal.reference}-v{version.number}.pdf"


def render_receipt(version: ProposalVersion) -> bytes:
    """The submission receipt: the frozen content, the server's timestamp to the second (Paris time), the hashes."""
    return render_pdf(
        "pdf/receipt.html",
        {
            "version": version,
            "proposal": version.proposal,
            "content": version.content,
            "submitted": formats.datetime(version.submitted_at, seconds=True),
            "organisation": settings.ORGANISATION_NAME,
        },
    )
