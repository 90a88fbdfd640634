"""Offline reading (issue #20): a reviewer takes away the proposals they review as one ZIP — one PDF per
proposal, the proposal as the reviewer reads it online followed by the pages of its support letter, and a
README listing them with the date.

What goes in is decided when the ZIP is asked for, by the rule of online reading
(``reviews.rules.offline_assignments_for``: accepted, no conflict, the proposal still under review), so a
conflict declared a minute ago is already left out. The PDF shows what the reviewer's proposal page shows
(the last submitted version: no e-mail address, no other review, nothing of the panel). The download is
audited with what it held.
"""

import datetime as dt
import io
import logging
import zipfile
from dataclasses import dataclass
from tempfile import SpooledTemporaryFile

import pikepdf
from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone, translation

from iea import formats
from iea.audit.domain import audit_record
from iea.pdf import render_pdf
from proposals.receipts import budget_table

from ..rules import offline_assignments_for
from .scoring import ReviewMaterial, review_material

log = logging.getLogger(__name__)

# Kept in memory up to this size, then on disk: a reviewer's ZIP is a few MB.
SPOOL_MAX_BYTES = 16 * 1024 * 1024


@dataclass(frozen=True)
class OfflineEntry:
    reference: str
    acronym: str
    title: str
    filename: str
    pages: int
    letter_pages: int  # 0 when the letter could not be merged (then it is a file of its own)


@dataclass
class OfflineBundle:
    file: SpooledTemporaryFile
    filename: str
    entries: list[OfflineEntry]


def offline_filename(now: dt.datetime) -> str:
    return f"iea-reviews-{timezone.localtime(now).date().isoformat()}.zip"


def offline_proposal_pdf(*, material: ReviewMaterial, assignment) -> bytes:
    """The proposal's PDF as the reviewer reads it online, in the active language (without the letter)."""
    content = material.content
    return render_pdf("pdf/reviewer_proposal.html", {
        "proposal": material.proposal, "version": material.version, "content": content,
        "material": material, "assignment": assignment,
        "budget": budget_table(content, years=material.proposal.call.budget_years),
        "submitted": formats.datetime(material.version.submitted_at, offset=True),
        "organisation": settings.ORGANISATION_NAME,
    })


def _with_letter(proposal_pdf: bytes, letter_file) -> tuple[bytes, int, int]:
    """The proposal's pages followed by the letter's: (pdf, pages in all, pages of the letter)."""
    with pikepdf.open(io.BytesIO(proposal_pdf)) as document:
        letter_file.open("rb")
        try:
            with pikepdf.open(io.BytesIO(letter_file.read())) as letter:
                document.pages.extend(letter.pages)
                letter_pages = len(letter.pages)
                out = io.BytesIO()
                document.save(out)
                return out.getvalue(), len(document.pages), letter_pages
        finally:
            letter_file.close()


def _page_count(pdf: bytes) -> int:
    with pikepdf.open(io.BytesIO(pdf)) as document:
        return len(document.pages)


def offline_bundle_build(*, user, now: dt.datetime) -> OfflineBundle | None:
    """The reviewer's ZIP, in the active language, or None when they have nothing to read offline (the page
    says so: never an empty ZIP). A letter the PDF library cannot read (it passed the upload check, so it
    should not happen) goes in as a file of its own, ``<reference>-letter.pdf``, rather than be lost."""
    assignments = list(
        offline_assignments_for(user).select_related("proposal__call", "proposal__pi", "panel__institute")
        .order_by("proposal__reference", "pk")
    )
    prepared = [(assignment, material) for assignment in assignments
                if (material := review_material(assignment.proposal)) is not None]
    if not prepared:
        return None
    spooled = SpooledTemporaryFile(max_size=SPOOL_MAX_BYTES)  # noqa: SIM115 -- the response closes it
    entries = []
    with zipfile.ZipFile(spooled, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for assignment, material in prepared:
            proposal = material.proposal
            pdf = offline_proposal_pdf(material=material, assignment=assignment)
            letter = material.version.letter
            letter_pages, pages = 0, None
            if letter is not None:
                try:
                    pdf, pages, letter_pages = _with_letter(pdf, letter.file)
                except (pikepdf.PdfError, OSError) as error:
                    log.warning("offline: the letter of %s is kept apart (%s)", proposal.reference, error)
                    letter.file.open("rb")
                    try:
                        archive.writestr(f"{proposal.reference}-letter.pdf", letter.file.read())
                    finally:
                        letter.file.close()
            filename = f"{proposal.reference}.pdf"
            archive.writestr(filename, pdf)
            entries.append(OfflineEntry(
                reference=proposal.reference, acronym=material.content.get("acronym", ""),
                title=material.content.get("title", ""), filename=filename, pages=pages or _page_count(pdf),
                letter_pages=letter_pages,
            ))
        archive.writestr("README.txt", render_to_string("reviews/reviewer/offline_readme.txt", {
            "entries": entries, "when": formats.datetime(now, offset=True), "user": user,
            "organisation": settings.ORGANISATION_NAME, "LANGUAGE_CODE": translation.get_language(),
        }))
    audit_record(actor=user, target=user, action="review.offline_download", now=now, data={
        "proposals": [entry.reference for entry in entries],
        "letters_merged": [entry.reference for entry in entries if entry.letter_pages],
    })
    spooled.seek(0)
    return OfflineBundle(file=spooled, filename=offline_filename(now), entries=entries)
