"""Uploaded files: the names shown and sent (``safe_filename``, at upload and in every download header),
replaced files removed once nothing refers to them, and ``manage.py orphan_files`` for what is left."""

import datetime as dt
import io
import logging
import os
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone

from funding.domain.awards import FundingError
from funding.domain.reports import report_save
from funding.models import Report
from iea.files import orphan_files, safe_filename
from iea.http import private_download, stored_file_download
from proposals.domain import letter_attach
from proposals.letters import check_pdf
from tests.funding.factories import award_factory
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


# --- Replaced files ---------------------------------------------------------------------------------------


def _save(report, content: bytes, **kw):
    return report_save(report_id=report.pk, user=report.award.proposal.pi, scientific_review="Two missions.",
                       spending=kw.pop("spending", {"mobility": Decimal(100)}), cofunding_received=None,
                       cofunding_currency="", scientific_pdf=check_pdf(_upload(content)), now=timezone.now(), **kw)


def _upload(content):
    return pdf_upload("review.pdf", content)


def test_twenty_report_uploads_leave_one_file(pi, staff, settings, django_capture_on_commit_callbacks):
    award = award_factory(pi=pi, staff=staff)
    report = Report.objects.get(award=award, period="year1")

    for n in range(1, 21):
        with django_capture_on_commit_callbacks(execute=True):
            _save(report, pdf_bytes(1 + n % 3) + b"\n%" + str(n).encode() + b"\n%%EOF\n")

    report.refresh_from_db()
    assert stored_files(settings.MEDIA_ROOT / "reports") == [report.scientific_pdf.name.removeprefix("reports/")]
    assert orphan_files(now=timezone.now(), min_age=dt.timedelta(0)) == []


@pytest.fixture
def report_with_a_pdf(pi, staff, django_capture_on_commit_callbacks):
    """The first year's report of an award, saved once with a scientific PDF."""
    award = award_factory(pi=pi, staff=staff)
    report = Report.objects.get(award=award, period="year1")
    with django_capture_on_commit_callbacks(execute=True):
        _save(report, pdf_bytes(1))
    report.refresh_from_db()
    return report


def test_a_refused_report_save_keeps_the_previous_pdf_and_leaves_no_new_file(report_with_a_pdf, settings,
                                                                             django_capture_on_commit_callbacks):
    report = report_with_a_pdf
    before = stored_files(settings.MEDIA_ROOT)

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(FundingError):
        _save(report, pdf_bytes(2), spending={"mobility": Decimal(-1)})

    assert Report.objects.get(pk=report.pk).scientific_pdf.name == report.scientific_pdf.name
    assert stored_files(settings.MEDIA_ROOT) == before


def test_the_replaced_file_stays_if_the_transaction_is_rolled_back(report_with_a_pdf, settings, monkeypatch,
                                                                     django_capture_on_commit_callbacks):
    import funding.domain.reports as reports

    report = report_with_a_pdf
    monkeypatch.setattr(reports, "audit_record", lambda **kw: (_ for _ in ()).throw(RuntimeError("disk full")))

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError):
        _save(report, pdf_bytes(2))

    assert Report.objects.get(pk=report.pk).scientific_pdf.name == report.scientific_pdf.name
    assert stored_files(settings.MEDIA_ROOT / "reports") == [report.scientific_pdf.name.removeprefix("reports/")]


# --- manage.py orphan_files ---------------------------------------------------------------------------------


def _age(path, hours: float):
    moment = (timezone.now() - dt.timedelta(hours=hours)).timestamp()
    os.utime(path, (moment, moment))


@pytest.fixture
def orphans(draft, pi, settings):
    """A referenced letter, two orphans a day old (in a letters and a reports folder), one written just now."""
    letter = letter_attach(proposal_id=draft.pk, pdf=check_pdf(pdf_upload()), now=timezone.now(), user=pi)
    root = settings.MEDIA_ROOT
    names = {"old_letter": f"letters/{draft.pk}/0123abcd.pdf", "old_report": "reports/99/feedbeef.pdf",
             "recent": f"letters/{draft.pk}/fresh.pdf"}
    for name in names.values():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(b"%PDF-" + b"0" * 55)  # 60 bytes
    for path in (root / letter.file.name, root / names["old_letter"], root / names["old_report"]):
        _age(path, 25)
    return {"letter": letter.file.name, **names}


def test_orphan_files_lists_them_with_their_size_and_deletes_nothing_by_default(orphans, settings):
    before = stored_files(settings.MEDIA_ROOT)
    out = io.StringIO()

    call_command("orphan_files", stdout=out)

    lines = out.getvalue().splitlines()
    assert [line.split("\t")[:2] for line in lines[:-1]] == [[orphans["old_letter"], "60"],
                                                              [orphans["old_report"], "60"]]
    assert lines[-1] == "2 orphan file(s), 120 bytes in all. Run with --delete to remove them."
    assert stored_files(settings.MEDIA_ROOT) == before


def test_orphan_files_delete_removes_only_the_old_orphans_and_logs_each(orphans, settings, caplog):
    out = io.StringIO()

    with caplog.at_level(logging.INFO, logger="iea.files"):
        call_command("orphan_files", "--delete", stdout=out)

    assert stored_files(settings.MEDIA_ROOT) == sorted([orphans["letter"], orphans["recent"]])
    assert out.getvalue().splitlines()[-1] == "Deleted 2 orphan file(s), 120 bytes in all."
    assert sorted(r.getMessage().split(" (")[0] for r in caplog.records if r.name == "iea.files") == [
        f"Deleted the orphan file {orphans['old_letter']}", f"Deleted the orphan file {orphans['old_report']}"]
    call_command("orphan_files", stdout=(again := io.StringIO()))
    assert again.getvalue() == "No orphan file.\n"


def test_orphan_files_with_no_minimum_age_sees_the_recent_one(orphans, settings):
    out = io.StringIO()

    call_command("orphan_files", "--min-age-hours", "0", stdout=out)

    assert out.getvalue().splitlines()[-1].startswith("3 orphan file(s), 180 bytes")


def test_orphan_files_on_an_empty_storage(settings):
    out = io.StringIO()

    call_command("orphan_files", "--delete", stdout=out)

    assert out.getvalue() == "No orphan file.\n"
