"""The support-letter upload corpus: what ``check_pdf`` accepts, what it refuses and why, and how
``letter_attach`` stores an accepted file (server-chosen name, nothing stored on refusal)."""

import datetime as dt
import hashlib
import io
import re
import zipfile

import pytest
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from django.utils import timezone, translation

from iea.audit.models import AuditEntry
from proposals.domain import ProposalError, letter_attach, proposal_submit
from proposals.letters import check_pdf, clean_display_name
from proposals.models import SupportLetter
from tests.pdfs import HOSTILE, PLAIN, hostile_message, hostile_pdf, pdf_bytes, pdf_upload, plain_pdf


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def stored_files(root) -> list[str]:
    """Every file under MEDIA_ROOT, relative to it, sorted."""
    if not root.exists():
        return []
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def zip_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("letter.txt", "I support this project.")
    return buffer.getvalue()


# --- check_pdf: accepted -----------------------------------------------------------------------------------


def test_valid_pdf_is_accepted_with_its_hash_size_and_pages():
    content = pdf_bytes(pages=3)

    checked = check_pdf(pdf_upload("Lettre de soutien.pdf", content))

    assert checked.content == content
    assert checked.sha256 == hashlib.sha256(content).hexdigest()
    assert checked.size == len(content)
    assert checked.pages == 3
    assert checked.display_name == "Lettre de soutien.pdf"


def test_a_pdf_exactly_at_the_size_limit_is_accepted_and_one_byte_over_is_not(settings):
    content = pdf_bytes()
    settings.SUPPORT_LETTER_MAX_BYTES = len(content)

    assert check_pdf(pdf_upload(content=content)).size == len(content)

    settings.SUPPORT_LETTER_MAX_BYTES = len(content) - 1
    with pytest.raises(ValidationError) as refused:
        check_pdf(pdf_upload(content=content))
    assert refused.value.code == "too_large"


# --- check_pdf: the bad corpus -----------------------------------------------------------------------------

PROGRAM = "This file is a program, not a PDF document. Upload the letter as a PDF."
HTML = "This file is a web page (HTML), not a PDF, even if its name ends in .pdf."
IMAGE = "This file is an image, not a PDF. Scan or export the letter as PDF."
ARCHIVE = "This file is an archive or an office document, not a PDF. Export the letter as PDF."
ENCRYPTED = "This PDF is password-protected or encrypted. Upload a copy without protection."
TRUNCATED = "This PDF is incomplete (it looks truncated). Save or download it again, then upload it."
DAMAGED = "This PDF is damaged and cannot be read. Save or export it again, then upload it."

BAD_CORPUS = [
    pytest.param(b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 200, "not_pdf", PROGRAM, id="windows-exe-renamed"),
    pytest.param(b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 200, "not_pdf", PROGRAM, id="elf-renamed"),
    pytest.param(b"#!/bin/sh\nrm -rf /\n", "not_pdf", PROGRAM, id="shell-script-renamed"),
    pytest.param(
        b"<!DOCTYPE html>\n<html><body><script>alert(1)</script></body></html>",
        "not_pdf",
        HTML,
        id="html-renamed",
    ),
    pytest.param(b"  \n<html><body>letter</body></html>", "not_pdf", HTML, id="html-leading-whitespace"),
    pytest.param(b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, "not_pdf", IMAGE, id="png-renamed"),
    pytest.param(b"\xff\xd8\xff\xe0" + b"\x00" * 100, "not_pdf", IMAGE, id="jpeg-renamed"),
    pytest.param(zip_bytes(), "not_pdf", ARCHIVE, id="zip-renamed"),
    pytest.param(
        b"Dear committee, I support this project.\n",
        "not_pdf",
        "This file is not a PDF document (it does not start like one).",
        id="plain-text-renamed",
    ),
    pytest.param(pdf_bytes(password="x"), "encrypted", ENCRYPTED, id="encrypted"),
    pytest.param(
        pdf_bytes(pages=2)[: len(pdf_bytes(pages=2)) // 2], "truncated", TRUNCATED, id="truncated-half"
    ),
    pytest.param(
        b"%PDF-1.7\n" + bytes(range(256)) * 2 + b"\n%%EOF\n", "unreadable", DAMAGED, id="header-garbage-eof"
    ),
    pytest.param(b"%PDF-1.4\nthis is not a pdf at all\n%%EOF\n", "unreadable", DAMAGED, id="header-text-eof"),
    pytest.param(b"", "empty", "The file is empty.", id="empty"),
]


@pytest.mark.parametrize(("content", "code", "message"), BAD_CORPUS)
def test_bad_upload_is_refused_with_its_specific_code_and_message(content, code, message):
    with pytest.raises(ValidationError) as refused:
        check_pdf(pdf_upload("letter.pdf", content))

    assert refused.value.code == code
    assert refused.value.messages == [message]


def test_pdf_without_pages_is_refused():
    # A well-formed header, catalogue and trailer, but an empty page tree: "unreadable" or "no_pages".
    content = (
        b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
        b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
    )
    with pytest.raises(ValidationError) as refused:
        check_pdf(pdf_upload(content=content))

    assert refused.value.code in {"unreadable", "no_pages"}
    assert refused.value.messages in ([DAMAGED], ["This PDF has no pages."])


def test_over_the_limit_is_refused_before_reading_with_both_sizes_in_the_message(settings):
    settings.SUPPORT_LETTER_MAX_BYTES = 1000
    content = pdf_bytes(pages=8)
    assert len(content) > 1000

    with pytest.raises(ValidationError) as refused:
        check_pdf(pdf_upload(content=content))

    assert refused.value.code == "too_large"
    assert refused.value.messages == [
        f"The file is {filesizeformat(len(content))}; the limit is {filesizeformat(1000)}. "
        "Reduce it (e.g. scan in black and white) and try again."
    ]


def test_over_the_limit_is_refused_when_the_declared_size_is_missing(settings):
    # A streamed upload may not know its size: the limit still holds on the bytes actually read.
    settings.SUPPORT_LETTER_MAX_BYTES = 1000
    upload = pdf_upload(content=pdf_bytes(pages=8))
    upload.size = None

    with pytest.raises(ValidationError) as refused:
        check_pdf(upload)

    assert refused.value.code == "too_large"
    assert refused.value.messages == [f"The file is larger than the limit of {filesizeformat(1000)}."]


def test_no_file_is_refused():
    with pytest.raises(ValidationError) as refused:
        check_pdf(None)

    assert refused.value.code == "missing"


def test_the_name_does_not_make_a_file_a_pdf_nor_stop_one_being_one():
    # Content decides: an HTML page called .pdf is refused, a PDF called .exe is accepted (shown as a .pdf).
    with pytest.raises(ValidationError) as refused:
        check_pdf(pdf_upload("letter.pdf", b"<html><body>hi</body></html>"))
    assert refused.value.code == "not_pdf"

    checked = check_pdf(pdf_upload("letter.exe", pdf_bytes()))
    assert (checked.pages, checked.display_name) == (1, "letter.pdf")


# --- check_pdf: active content (refused, never cleaned: the letter is evidence) ----------------------------


@pytest.mark.parametrize("kind", HOSTILE)
def test_a_pdf_with_active_content_is_refused_naming_what_was_found(kind):
    with pytest.raises(ValidationError) as refused:
        check_pdf(pdf_upload("letter.pdf", hostile_pdf(kind)))

    assert refused.value.code == "active_content"
    assert refused.value.messages == [hostile_message(kind)]


def test_the_refusal_of_active_content_is_in_french():
    with translation.override("fr"), pytest.raises(ValidationError) as refused:
        check_pdf(pdf_upload("letter.pdf", hostile_pdf("javascript-open-action")))

    assert refused.value.messages == [
        "Ce PDF contient du JavaScript et une action automatique (exécutée à l'ouverture, à la fermeture ou à "
        "l'impression). Ces fichiers sont refusés par sécurité\u00a0: imprimez-le ou exportez-le en un PDF "
        "simple (par exemple avec «\u00a0Imprimer en PDF\u00a0»), puis téléversez-le de nouveau."]


@pytest.mark.parametrize("kind", PLAIN)
def test_a_plain_pdf_passes_signed_with_a_first_page_opening_a_web_link_or_restricted(kind):
    # A signature field (/AcroForm, /Sig) is not active content; nor is "open at page 1", a link to click,
    # or an owner password that only restricts copying (it opens without one).
    content = plain_pdf(kind)

    checked = check_pdf(pdf_upload("letter.pdf", content))

    assert (checked.content, checked.pages) == (content, 1)


# --- File names --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("uploaded", "shown"),
    [
        ("../../etc/passwd.pdf", "passwd.pdf"),
        ("..\\..\\x.pdf", "x.pdf"),
        ("C:\\Users\\ana\\Desktop\\lettre.pdf", "lettre.pdf"),
        ("/home/ana/letter.pdf", "letter.pdf"),
        ("a\x00b.pdf", "ab.pdf"),
        ("line\r\nbreak.pdf", "linebreak.pdf"),
        ("evil\u202efdp.exe", "evilfdp.pdf"),  # right-to-left override: it reads "evilexe.pdf"
        ("lettre\u2067fdp.exe\u2069", "lettrefdp.pdf"),  # right-to-left isolate
        ("zero\u200bwidth\u200d.pdf", "zerowidth.pdf"),
        ("\ufeffbom.pdf", "bom.pdf"),
        ("tab\there.pdf", "tabhere.pdf"),
        ("two\u2028lines\u00a0here.pdf", "two lines here.pdf"),
        ("Lettre de l'Université.PDF", "Lettre de l'Université.pdf"),
        ("Lettre signe\u0301e.pdf", "Lettre signée.pdf"),  # decomposed accent, composed (NFC)
        ("Письмо поддержки.pdf", "Письмо поддержки.pdf"),
        ("letter", "letter.pdf"),
        ("report v1.2", "report v1.2.pdf"),
        ("letter.pdf.exe", "letter.pdf.pdf"),
        ("letter.pdf. . ", "letter.pdf"),
        (".exe", "exe.pdf"),
        ("\u202e\u200b", "letter.pdf"),
        ("Lettre signée.pdf", "Lettre signée.pdf"),
        (".hidden.pdf", "hidden.pdf"),
        ("  spaced.pdf  ", "spaced.pdf"),
        ("", "letter.pdf"),
        (None, "letter.pdf"),
        ("..", "letter.pdf"),
        ("../", "letter.pdf"),
        ("\x00\x01\x1f", "letter.pdf"),
        ("dir/", "letter.pdf"),
    ],
)
def test_clean_display_name(uploaded, shown):
    assert clean_display_name(uploaded) == shown


def test_clean_display_name_keeps_at_most_200_characters_and_the_extension():
    assert clean_display_name("a" * 300 + ".pdf") == "a" * 196 + ".pdf"
    assert clean_display_name("é" * 300) == "é" * 196 + ".pdf"


def test_check_pdf_reports_the_cleaned_name():
    assert check_pdf(pdf_upload("../../etc/passwd.pdf")).display_name == "passwd.pdf"


# --- letter_attach -----------------------------------------------------------------------------------------


def test_letter_attach_stores_the_checked_pdf_under_a_server_chosen_name(draft, pi, settings):
    content = pdf_bytes(pages=2)
    now = timezone.now()

    letter = letter_attach(
        proposal_id=draft.pk, pdf=check_pdf(pdf_upload("../../etc/passwd.pdf", content)), now=now, user=pi
    )

    letter = SupportLetter.objects.get(pk=letter.pk)
    assert re.fullmatch(rf"letters/{draft.pk}/[0-9a-f]{{32}}\.pdf", letter.file.name), letter.file.name
    assert "passwd" not in letter.file.name
    assert letter.original_name == "passwd.pdf"
    assert (letter.sha256, letter.size, letter.pages) == (
        hashlib.sha256(content).hexdigest(),
        len(content),
        2,
    )
    assert (letter.uploaded_at, letter.uploaded_by, letter.uploaded_by_partner) == (now, pi, False)
    assert stored_files(settings.MEDIA_ROOT) == [letter.file.name]
    assert (settings.MEDIA_ROOT / letter.file.name).read_bytes() == content
    entry = AuditEntry.objects.get(action="proposal.letter_upload")
    assert (entry.object_id, entry.actor, entry.data) == (
        str(draft.pk),
        pi,
        {"sha256": letter.sha256, "size": len(content), "name": "passwd.pdf"},
    )


def test_two_uploads_with_the_same_name_get_two_stored_files_and_the_replaced_one_goes(
        draft, pi, settings, django_capture_on_commit_callbacks):
    now = timezone.now()
    first = letter_attach(
        proposal_id=draft.pk, pdf=check_pdf(pdf_upload("letter.pdf", pdf_bytes(1))), now=now, user=pi
    )
    with django_capture_on_commit_callbacks(execute=True):
        second = letter_attach(
            proposal_id=draft.pk,
            pdf=check_pdf(pdf_upload("letter.pdf", pdf_bytes(2))),
            now=now + dt.timedelta(seconds=1),
            user=pi,
        )

    assert first.file.name != second.file.name
    # No submitted version froze the first letter: nothing refers to it any more, row nor file.
    assert stored_files(settings.MEDIA_ROOT) == [second.file.name]
    assert list(draft.letters.values_list("pk", flat=True)) == [second.pk]


def test_a_replaced_letter_that_a_submitted_version_froze_stays(draft, pi, settings,
                                                                 django_capture_on_commit_callbacks):
    first = letter_attach(proposal_id=draft.pk, pdf=check_pdf(pdf_upload("v1.pdf")), now=timezone.now(), user=pi)
    version = proposal_submit(proposal_id=draft.pk, user=pi, now=timezone.now()).version
    with django_capture_on_commit_callbacks(execute=True):
        second = letter_attach(proposal_id=draft.pk, pdf=check_pdf(pdf_upload("v2.pdf", pdf_bytes(2))),
                               now=timezone.now() + dt.timedelta(seconds=1), user=pi)
    with django_capture_on_commit_callbacks(execute=True):
        third = letter_attach(proposal_id=draft.pk, pdf=check_pdf(pdf_upload("v3.pdf", pdf_bytes(3))),
                              now=timezone.now() + dt.timedelta(seconds=2), user=pi)

    assert version.letter_id == first.pk
    # The submitted letter stays (its receipt points to it); the second, never submitted, went.
    assert list(draft.letters.values_list("pk", flat=True)) == [third.pk, first.pk]
    assert stored_files(settings.MEDIA_ROOT) == sorted([first.file.name, third.file.name])
    assert second.file.name not in stored_files(settings.MEDIA_ROOT)


def test_letter_attach_records_the_cofunding(draft, pi):
    letter = letter_attach(
        proposal_id=draft.pk,
        pdf=check_pdf(pdf_upload()),
        now=timezone.now(),
        user=pi,
        cofunding=True,
        cofunding_amount=5000,
        cofunding_currency="brl",
    )

    letter.refresh_from_db()
    assert (letter.cofunding, letter.cofunding_amount, letter.cofunding_currency) == (True, 5000, "BRL")


@pytest.mark.parametrize(("content", "code"), [(p.values[0], p.values[1]) for p in BAD_CORPUS])
def test_a_refused_upload_stores_nothing(draft, pi, settings, content, code):
    lock_version = draft.lock_version

    with pytest.raises(ValidationError) as refused:
        letter_attach(
            proposal_id=draft.pk,
            pdf=check_pdf(pdf_upload("letter.pdf", content)),
            now=timezone.now(),
            user=pi,
        )

    assert refused.value.code == code
    assert SupportLetter.objects.count() == 0
    assert stored_files(settings.MEDIA_ROOT) == []
    assert AuditEntry.objects.filter(action="proposal.letter_upload").count() == 0
    draft.refresh_from_db()
    assert draft.lock_version == lock_version


def test_letter_attach_refused_by_the_domain_stores_no_file(draft, pi, settings):
    # The PDF is fine but the call has closed: the file must not be written before the rule is checked.
    draft.call.closes_at = timezone.now() - dt.timedelta(minutes=1)
    draft.call.save(update_fields=["closes_at"])

    with pytest.raises(ProposalError) as refused:
        letter_attach(proposal_id=draft.pk, pdf=check_pdf(pdf_upload()), now=timezone.now(), user=pi)

    assert refused.value.code == "closed"
    assert SupportLetter.objects.count() == 0
    assert stored_files(settings.MEDIA_ROOT) == []


def test_cofunding_without_amount_is_refused_and_stores_nothing(draft, pi, settings):
    with pytest.raises(ProposalError) as refused:
        letter_attach(
            proposal_id=draft.pk, pdf=check_pdf(pdf_upload()), now=timezone.now(), user=pi, cofunding=True
        )

    assert refused.value.code == "cofunding"
    assert SupportLetter.objects.count() == 0
    assert stored_files(settings.MEDIA_ROOT) == []
