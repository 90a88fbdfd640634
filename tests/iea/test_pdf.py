"""The PDF renderer may read the app's static files and ``data:`` URLs, nothing else: no local file, no
network, no path out of the static folders, even when the HTML (which carries proposal text) asks."""

import io

import pytest
from django.contrib.staticfiles import finders
from django.utils import timezone
from pypdf import PdfReader
from weasyprint.urls import FatalURLFetchingError

from iea.pdf import render_pdf
from iea.pdf_fetcher import ForbiddenResource, StaticOnlyURLFetcher, static_only_url_fetcher

CSS = b"p { color: #123456; }\n"
PNG_1PX = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d49444154789c6360000002000001e221bc330000000049454e44ae426082"
)


@pytest.fixture
def static_dir(settings, tmp_path):
    """An extra static folder, searched first, holding files only the tests know."""
    root = tmp_path / "static"
    (root / "css").mkdir(parents=True)
    (root / "img").mkdir()
    (root / "css" / "test-pdf.css").write_bytes(CSS)
    (root / "img" / "dot.png").write_bytes(PNG_1PX)
    if finders.find("css/app.css") is None:  # the real one is written elsewhere; stand in for it if absent
        (root / "css" / "app.css").write_bytes(CSS)
    settings.STATICFILES_DIRS = [root, *settings.STATICFILES_DIRS]
    return root


@pytest.fixture
def fetches(monkeypatch):
    """Every URL the renderer asks for, with what the fetcher answered: "ok" or the exception's class name."""
    seen = []
    original = StaticOnlyURLFetcher.fetch

    def spy(self, url, headers=None):
        try:
            response = original(self, url, headers)
        except Exception as exc:
            seen.append((url, type(exc).__name__))
            raise
        seen.append((url, "ok"))
        return response

    monkeypatch.setattr(StaticOnlyURLFetcher, "fetch", spy)
    return seen


@pytest.fixture
def template_dir(settings, tmp_path):
    root = tmp_path / "templates"
    root.mkdir()
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [root, *settings.TEMPLATES[0]["DIRS"]]}]
    return root


def pdf_text(content: bytes) -> str:
    """The PDF's text with runs of whitespace (line breaks included) reduced to one space."""
    return " ".join(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages).split())


# --- The fetcher -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "FILE:///etc/passwd",
        "file://localhost/etc/passwd",
        "/etc/passwd",
        "http://example.org/x.png",
        "https://example.org/x.css",
        "ftp://example.org/x.css",
        "//example.org/static/css/app.css",
        "http://127.0.0.1:8000/admin/",
        "http://127.0.0.1:8000/media/letters/1/letter.pdf",
        "http://127.0.0.1:8000.example.org/static/css/app.css",
        "http://169.254.169.254/latest/meta-data/",
        "/static/../../etc/passwd",
        "/static/css/../../../etc/passwd",
        "http://127.0.0.1:8000/static/../../etc/passwd",
        "/static//etc/passwd",
        "/static/..%2f..%2fetc/passwd",
        "/static/..\\..\\etc\\passwd",
        "/static/",
        "/static/css",
        "/static/css/no-such-file.css",
    ],
)
def test_fetcher_refuses(url, static_dir):
    with pytest.raises(ForbiddenResource) as refused:
        static_only_url_fetcher(url)

    assert str(refused.value) == f"PDF renderer refused to fetch {url!r}"


def test_a_refusal_is_not_fatal_to_the_rendering():
    # WeasyPrint aborts the whole PDF only on FatalURLFetchingError; a refusal must just skip the resource.
    assert issubclass(ForbiddenResource, ValueError)
    assert not issubclass(ForbiddenResource, FatalURLFetchingError)


@pytest.mark.parametrize(
    "url",
    [
        "/static/css/app.css",
        "http://127.0.0.1:8000/static/css/app.css",
        "/static/css/app.css?v=3",
        "/static/css/app.css#top",
    ],
)
def test_fetcher_serves_the_apps_stylesheet(url, static_dir):
    response = static_only_url_fetcher(url)

    with open(finders.find("css/app.css"), "rb") as handle:
        assert response.read() == handle.read()
    assert (response.url, response.content_type) == (url, "text/css")


def test_fetcher_serves_a_static_file_from_any_static_folder_with_its_type(static_dir):
    css = static_only_url_fetcher("/static/css/test-pdf.css")
    png = static_only_url_fetcher("http://127.0.0.1:8000/static/img/dot.png")

    assert (css.read(), css.content_type) == (CSS, "text/css")
    assert (png.read(), png.content_type) == (PNG_1PX, "image/png")


def test_fetcher_follows_the_site_url_setting(settings, static_dir):
    settings.SITE_URL = "https://iea.example.fr"

    assert static_only_url_fetcher("https://iea.example.fr/static/css/test-pdf.css").read() == CSS
    with pytest.raises(ForbiddenResource):
        static_only_url_fetcher("http://127.0.0.1:8000/static/css/test-pdf.css")


def test_fetcher_reads_data_urls():
    assert static_only_url_fetcher("data:text/css,p%7Bcolor:red%7D").read() == b"p{color:red}"


# --- render_pdf --------------------------------------------------------------------------------------------


def test_render_pdf_skips_refused_resources_and_still_renders(template_dir, static_dir, fetches):
    (template_dir / "hostile.html").write_text(
        "{% load static %}<!doctype html><html><head>"
        '<link rel="stylesheet" href="http://example.org/x.css">'
        '<link rel="stylesheet" href="{% static \'css/test-pdf.css\' %}">'
        "</head><body><p>Hello {{ name }}</p>"
        '<img src="file:///etc/passwd" alt="">'
        '<img src="http://example.org/x.png" alt="">'
        "</body></html>"
    )

    content = render_pdf("hostile.html", {"name": "Ana"})

    assert content.startswith(b"%PDF")
    assert sorted(fetches) == sorted(
        [
            ("http://example.org/x.css", "ForbiddenResource"),
            ("http://127.0.0.1:8000/static/css/test-pdf.css", "ok"),
            ("file:///etc/passwd", "ForbiddenResource"),
            ("http://example.org/x.png", "ForbiddenResource"),
        ]
    )
    text = pdf_text(content)
    assert "Hello Ana" in text
    assert "root:" not in text


def test_render_pdf_escapes_markup_from_the_context(template_dir, fetches):
    # Proposal text is context, not template: autoescaping keeps an <img> in a title from being fetched.
    (template_dir / "title.html").write_text("<!doctype html><html><body><h1>{{ title }}</h1></body></html>")

    content = render_pdf("title.html", {"title": '<img src="file:///etc/passwd"> Coastal erosion'})

    assert fetches == []
    assert '<img src="file:///etc/passwd"> Coastal erosion' in pdf_text(content)


def test_the_receipt_finds_its_own_stylesheet(draft, pi, fetches):
    # Every resource the real receipt template asks for must be served: a missing pdf.css would silently
    # give an unstyled receipt.
    from proposals.domain import letter_attach, proposal_submit
    from proposals.letters import check_pdf
    from proposals.receipts import render_receipt
    from tests.pdfs import pdf_upload

    now = timezone.now()
    letter_attach(proposal_id=draft.pk, pdf=check_pdf(pdf_upload()), now=now, user=pi)
    version = proposal_submit(proposal_id=draft.pk, user=pi, now=now).version

    content = render_receipt(version)

    assert content.startswith(b"%PDF")
    assert fetches != []
    assert [outcome for _url, outcome in fetches] == ["ok"] * len(fetches)


def test_the_receipt_finds_its_hashed_stylesheet_in_production(draft, pi, fetches, settings, tmp_path):
    # DEBUG off: {% static %} names the manifest's hashed copy, which only collectstatic's folder holds.
    import json

    from proposals.domain import letter_attach, proposal_submit
    from proposals.letters import check_pdf
    from proposals.receipts import render_receipt
    from tests.pdfs import pdf_upload

    root = tmp_path / "collected"
    (root / "css").mkdir(parents=True)
    with open(finders.find("css/pdf.css"), "rb") as handle:
        (root / "css" / "pdf.0123456789ab.css").write_bytes(handle.read())
    (root / "staticfiles.json").write_text(json.dumps(
        {"paths": {"css/pdf.css": "css/pdf.0123456789ab.css"}, "version": "1.1"}))
    settings.STATIC_ROOT = root
    settings.STORAGES = {**settings.STORAGES, "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"}}
    now = timezone.now()
    letter_attach(proposal_id=draft.pk, pdf=check_pdf(pdf_upload()), now=now, user=pi)
    version = proposal_submit(proposal_id=draft.pk, user=pi, now=now).version

    render_receipt(version)

    assert [(url.rsplit("/", 1)[-1], outcome) for url, outcome in fetches] == [("pdf.0123456789ab.css", "ok")]
