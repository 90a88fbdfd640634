"""PDF rendering with WeasyPrint, locked down (``iea.pdf_fetcher``: the app's static files and ``data:`` URLs,
nothing else). Importing this module does not import WeasyPrint: a web worker that never renders a PDF
does not carry it."""

from django.conf import settings
from django.template.loader import render_to_string


def render_pdf(template: str, context: dict) -> bytes:
    # WeasyPrint loads Pango, the fonts and Pillow (about 50 MB): paid only by a process that renders.
    from weasyprint import HTML  # noqa: PLC0415

    from .pdf_fetcher import StaticOnlyURLFetcher  # noqa: PLC0415

    html = render_to_string(template, context)
    return HTML(
        string=html, base_url=settings.SITE_URL + "/", url_fetcher=StaticOnlyURLFetcher(allowed_protocols=("data",))
    ).write_pdf()
