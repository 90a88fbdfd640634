"""Checks a support letter by its content, never by its name: a readable, unencrypted PDF under the size limit.

Each refusal carries a message that says exactly what is wrong, in the user's language.
"""

import hashlib
import io
import unicodedata
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from pypdf import PdfReader
from pypdf.errors import PdfReadError

# Leading bytes of common files that people rename to .pdf by mistake (or on purpose).
_SIGNATURES = [
    (b"MZ", "program"),
    (b"\x7fELF", "program"),
    (b"#!", "program"),
    (b"PK\x03\x04", "archive"),
    (b"\xd0\xcf\x11\xe0", "office"),
    (b"\x89PNG", "image"),
    (b"\xff\xd8\xff", "image"),
    (b"GIF8", "image"),
]


@dataclass(frozen=True)
class CheckedPdf:
    content: bytes
    sha256: str
    size: int
    pages: int
    display_name: str


def clean_display_name(name: str | None) -> str:
    """The uploader's file name reduced to something safe to show: no folders, no control characters."""
    name = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C").strip().lstrip(".")
    return name[:200] or "letter.pdf"


def _kind(head: bytes) -> str | None:
    for signature, kind in _SIGNATURES:
        if head.startswith(signature):
            return kind
    text = head.lstrip()[:64].lower()
    if text.startswith((b"<!doctype html", b"<html", b"<?xml", b"<svg", b"<")):
        return "html"
    return None


def check_pdf(uploaded, *, max_bytes: int | None = None) -> CheckedPdf:
    """Read the upload and return it if it is a PDF we can accept; raise ValidationError otherwise."""
    max_bytes = max_bytes or settings.SUPPORT_LETTER_MAX_BYTES
    if uploaded is None:
        raise ValidationError(_("Choose a PDF file to upload."), code="missing")
    if uploaded.size is not None and uploaded.size > max_bytes:
        raise ValidationError(
            _("The file is %(size)s; the limit is %(limit)s. Reduce it (e.g. scan in black and white) and try again.")
            % {"size": filesizeformat(uploaded.size), "limit": filesizeformat(max_bytes)},
            code="too_large",
        )
    content = uploaded.read(max_bytes + 1)
    if len(content) > max_bytes:
        raise ValidationError(
            _("The file is larger than the limit of %(limit)s.") % {"limit": filesizeformat(max_bytes)},
            code="too_large",
        )
    if not content:
        raise ValidationError(_("The file is empty."), code="empty")
    if not content.startswith(b"%PDF-"):
        kind = _kind(content[:512])
        messages = {
            "program": _("This file is a program, not a PDF document. Upload the letter as a PDF."),
            "archive": _("This file is an archive or an office document, not a PDF. Export the letter as PDF."),
            "office": _("This file is an office document, not a PDF. Export the letter as PDF."),
            "image": _("This file is an image, not a PDF. Scan or export the letter as PDF."),
            "html": _("This file is a web page (HTML), not a PDF, even if its name ends in .pdf."),
        }
        raise ValidationError(
            messages.get(kind, _("This file is not a PDF document (it does not start like one).")), code="not_pdf"
        )
    if b"%%EOF" not in content[-2048:]:
        raise ValidationError(
            _("This PDF is incomplete (it looks truncated). Save or download it again, then upload it."),
            code="truncated",
        )
    try:
        reader = PdfReader(io.BytesIO(content), strict=False)
        if reader.is_encrypted:
            raise ValidationError(
                _("This PDF is password-protected or encrypted. Upload a copy without protection."),
                code="encrypted",
            )
        pages = len(reader.pages)
    except ValidationError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, IndexError, RecursionError, OSError):
        raise ValidationError(
            _("This PDF is damaged and cannot be read. Save or export it again, then upload it."), code="unreadable"
        ) from None
    if pages < 1:
        raise ValidationError(_("This PDF has no pages."), code="no_pages")
    return CheckedPdf(
        content=content,
        sha256=hashlib.sha256(content).hexdigest(),
        size=len(content),
        pages=pages,
        display_name=clean_display_name(getattr(uploaded, "name", "")),
    )
