"""What WeasyPrint may read while rendering a PDF (``iea.pdf``): the app's own static files and ``data:`` URLs,
nothing else — no local file, no network (a proposal's text cannot make it fetch one).

A module of its own because it imports WeasyPrint (Pango, the fonts, Pillow: about 50 MB): only a process
that renders a PDF imports it, through ``iea.pdf.render_pdf``."""

import os

from django.conf import settings
from django.contrib.staticfiles import finders
from django.contrib.staticfiles.storage import staticfiles_storage
from weasyprint.urls import URLFetcher, URLFetcherResponse


class ForbiddenResource(ValueError):
    pass


_MIME = {"css": "text/css", "png": "image/png", "svg": "image/svg+xml", "woff2": "font/woff2", "jpg": "image/jpeg"}


class StaticOnlyURLFetcher(URLFetcher):
    """Resolves ``/static/...`` through Django's static finders and refuses every other URL.

    WeasyPrint catches the refusal, logs it and renders without the resource.
    """

    def fetch(self, url, headers=None):
        if url.startswith("data:"):
            return super().fetch(url, headers)
        prefix = settings.STATIC_URL
        for base in ("", settings.SITE_URL):
            if url.startswith(base + prefix):
                relative = url[len(base + prefix):].split("?", 1)[0].split("#", 1)[0]
                if ".." in relative.split("/") or "\\" in relative or relative.startswith("/"):
                    break
                path = finders.find(relative) or _collected(relative)
                if path and os.path.isfile(path):
                    with open(path, "rb") as handle:
                        body = handle.read()
                    mime = _MIME.get(relative.rsplit(".", 1)[-1].lower(), "application/octet-stream")
                    return URLFetcherResponse(url, body, {"Content-Type": mime})
                break
        raise ForbiddenResource(f"PDF renderer refused to fetch {url!r}")


def _collected(relative: str) -> str | None:
    """The file as ``collectstatic`` wrote it. With DEBUG off, ``{% static %}`` names the manifest's hashed
    copy (``css/pdf.e379ef8f3bd8.css``), which exists only in STATIC_ROOT, never in a static folder."""
    try:
        path = staticfiles_storage.path(relative)
    except NotImplementedError:  # a remote storage: nothing on disk to read
        return None
    return path if os.path.isfile(path) else None


static_only_url_fetcher = StaticOnlyURLFetcher(allowed_protocols=("data",))
