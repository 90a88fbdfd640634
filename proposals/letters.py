"""Checks an uploaded PDF (the support letter, a report's scientific review) by its content, never by its
name: a PDF under the size limit that opens without a password and holds no active content.

Active content is refused, not removed: the letter is evidence (the partner's signed statement of
co-funding), and a cleaned copy would no longer be what was signed, nor keep a digital signature valid.
Each refusal carries a message that says exactly what is wrong, in the user's language.
"""

import hashlib
import io
from dataclasses import dataclass

import pikepdf
from django.conf import settings
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from django.utils.text import get_text_list
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from iea.files import safe_filename

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
    """The uploader's file name as shown and stored (``iea.files.safe_filename``), ending in .pdf."""
    return safe_filename(name, default="letter.pdf")


def pdf_help_text() -> str:
    """The policy, under every PDF field."""
    return _("PDF only, at most %(limit)s, that opens without a password. A PDF with JavaScript, automatic or "
             "launch actions, or embedded files is refused, as it is kept unchanged: print or export it to a "
             "plain PDF first.") % {"limit": filesizeformat(settings.SUPPORT_LETTER_MAX_BYTES)}


# What a PDF may hold that does something when opened or clicked, and the words the refusal uses for it.
ACTIVE_CONTENT = {
    "javascript": gettext_lazy("JavaScript"),
    "automatic": gettext_lazy("an automatic action (run on opening, closing or printing)"),
    "launch": gettext_lazy("a launch action (it starts a program or opens a file)"),
    "external": gettext_lazy("an action that sends data or opens another document"),
    "embedded": gettext_lazy("embedded files"),
    "xfa": gettext_lazy("an XFA form"),
    "multimedia": gettext_lazy("multimedia content"),
}
_ACTIONS = {
    "/JavaScript": "javascript", "/Launch": "launch", "/SubmitForm": "external", "/ImportData": "external",
    "/GoToR": "external", "/GoToE": "external", "/Rendition": "multimedia", "/RichMediaExecute": "multimedia",
    "/Movie": "multimedia", "/Sound": "multimedia",
}
_ANNOTATIONS = {"/FileAttachment": "embedded", "/RichMedia": "multimedia", "/Screen": "multimedia",
                "/Movie": "multimedia", "/Sound": "multimedia", "/3D": "multimedia"}
# Moving within the document is what an opening action usually does ("open at page 1, fit to window").
_NAVIGATION = {"/GoTo", "/Named"}


def _name(dictionary, key: str) -> str:
    value = dictionary.get(key)
    return str(value) if isinstance(value, pikepdf.Name) else ""


def _automatic(action) -> bool:
    """Whether an action run without a click (/OpenAction, /AA) does more than move within the document."""
    for _step in range(50):
        if not isinstance(action, pikepdf.Dictionary):
            return False
        if _name(action, "/S") not in _NAVIGATION:
            return True
        action = action.get("/Next")
        if isinstance(action, pikepdf.Array):
            return any(_automatic(item) for item in action)
    return True  # a chain that long is not a plain "go to page 1"


def _inspect(value, found: set[str]) -> None:
    """Add to ``found`` what this dictionary, stream or array, and the direct objects inside it, hold."""
    if isinstance(value, pikepdf.Array):
        children = list(value)
    elif isinstance(value, (pikepdf.Dictionary, pikepdf.Stream)):
        found.update(filter(None, [_ACTIONS.get(_name(value, "/S")), _ANNOTATIONS.get(_name(value, "/Subtype"))]))
        if "/JS" in value:
            found.add("javascript")
        if "/EF" in value or "/EmbeddedFiles" in value or _name(value, "/Type") == "/EmbeddedFile":
            found.add("embedded")
        if "/XFA" in value:
            found.add("xfa")
        opening, triggers = value.get("/OpenAction"), value.get("/AA")
        if isinstance(opening, pikepdf.Dictionary) and _automatic(opening):
            found.add("automatic")
        if isinstance(triggers, pikepdf.Dictionary) and any(_automatic(action) for _k, action in triggers.items()):
            found.add("automatic")
        children = [child for _key, child in value.items()]
    else:
        return
    for child in children:
        # Indirect objects are inspected on their own (Pdf.objects lists them all): no loops, none twice.
        if isinstance(child, (pikepdf.Array, pikepdf.Dictionary)) and not child.is_indirect:
            _inspect(child, found)


def active_content(pdf: pikepdf.Pdf) -> list[str]:
    """What in the PDF can run or open something (keys of ``ACTIVE_CONTENT``, in its order); [] if nothing.

    Every object of the file is read, reachable or not: the catalogue's and pages' opening actions, the
    JavaScript and embedded-files name trees, annotations and their actions, form fields, bookmarks.
    A signature field (/Sig) is not active content: a digitally signed letter passes.
    """
    found: set[str] = set()
    for obj in pdf.objects:
        _inspect(obj, found)
    return [kind for kind in ACTIVE_CONTENT if kind in found]


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
    # A PDF that opens without a password but restricts printing or copying (an "owner password") is read
    # like any other; one that asks for a password to open cannot be read by the reviewers either.
    try:
        with pikepdf.open(io.BytesIO(content)) as pdf:
            pages = len(pdf.pages)
            found = active_content(pdf)
    except pikepdf.PasswordError:
        raise ValidationError(
            _("This PDF is password-protected or encrypted. Upload a copy without protection."), code="encrypted"
        ) from None
    except (pikepdf.PdfError, ValueError, KeyError, TypeError, AttributeError, IndexError, RecursionError, OSError,
            RuntimeError):
        raise ValidationError(
            _("This PDF is damaged and cannot be read. Save or export it again, then upload it."), code="unreadable"
        ) from None
    if pages < 1:
        raise ValidationError(_("This PDF has no pages."), code="no_pages")
    if found:
        raise ValidationError(
            _("This PDF contains %(found)s. Such files are refused for safety: print or export it to a plain "
              "PDF (e.g. with \"Print to PDF\") and upload it again.") % {
                "found": get_text_list([str(ACTIVE_CONTENT[kind]) for kind in found], _("and"))},
            code="active_content",
        )
    return CheckedPdf(
        content=content,
        sha256=hashlib.sha256(content).hexdigest(),
        size=len(content),
        pages=pages,
        display_name=clean_display_name(getattr(uploaded, "name", "")),
    )
