"""Uploaded files: the names shown and sent (``safe_filename``, at upload and in every download header)."""


import pytest
from django.utils import timezone

from iea.files import safe_filename
from iea.http import private_download, stored_file_download
from proposals.domain import letter_attach
from proposals.letters import check_pdf
from tests.pdfs import pdf_bytes, pdf_upload

pytestmark = pytest.mark.django_db


def stored_files(root) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()) if root.exists() else []


# --- Names ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("given", "kept"), [
    ("support-letter-IEA25-000001.pdf", "support-letter-IEA25-000001.pdf"),
    ("receipt-IEA25-000001-v2.pdf", "receipt-IEA25-000001-v2.pdf"),
    ("awards-2025.xlsx", "awards-2025.xlsx"),  # downloads keep their own extension
    ("résumé-évaluation-Île-de-France.pdf", "résumé-évaluation-Île-de-France.pdf"),
    ("lettre\u202efdp.exe", "lettrefdp.exe"),
    ("a\u2066b\u2069c\u200e.pdf", "abc.pdf"),
    ("line\nbreak\r.pdf", "linebreak.pdf"),
    ("e\u0301te\u0301.pdf", "été.pdf"),
    ("\u202e", "download"),
])
def test_download_names_lose_control_and_bidirectional_characters(given, kept):
    assert safe_filename(given, default="download", extension=None) == kept


def test_a_very_long_name_is_cut_and_keeps_its_extension():
    name = safe_filename("Lettre de soutien " * 40 + ".pdf", default="letter.pdf")

    assert len(name) == 200
    assert name.endswith(".pdf")
    assert not name[:-4].endswith((" ", "."))


@pytest.mark.parametrize("helper", ["private", "stored"])
def test_the_content_disposition_of_every_download_is_cleaned(helper, draft, pi):
    name = "support-letter-\u202efdp.exe-IEA25\u200b.pdf"
    if helper == "private":
        response = private_download(b"%PDF-", filename=name, content_type="application/pdf")
    else:
        letter = letter_attach(proposal_id=draft.pk, pdf=check_pdf(pdf_upload()), now=timezone.now(), user=pi)
        response = stored_file_download(letter.file, filename=name, content_type="application/pdf")
        response.close()

    assert response["Content-Disposition"] == 'attachment; filename="support-letter-fdp.exe-IEA25.pdf"'


def test_a_name_from_an_upload_is_cleaned_by_check_pdf():
    checked = check_pdf(pdf_upload("Lettre signée \u202egpj.exe", pdf_bytes()))

    assert checked.display_name == "Lettre signée gpj.pdf"
