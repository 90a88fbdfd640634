"""PDF rendering with WeasyPrint, locked down: the renderer may read the app's own static files and
``data:`` URLs, nothing else — no local file, no network (a proposal's text cannot make it fetch one)."""

from django.conf import settings
from django.contrib.staticfiles import finders
from django.template.loader import render_to_string


class ForbiddenResource(ValueError):
    pass


def static_only_url_fetcher(url: str, *args, **kwargs):
    """Resolve ``/static/...`` through Django's static finders; refuse every other URL."""
    from weasyprint.urls import default_url_fetcher

    if url.startswith("data:"):
        return default_url_fetcher(url, *args, **kwargs)
    prefix = settings.STATIC_URL
    for base in ("", settings.SITE_URL):
        if url.startswith(base + prefix):
            relative = url[len(base + prefix):].split("?", 1)[0]
            if ".." in relative.split("/"):
                break
            path = finders.find(relative)
            if path:
                with open(path, "rb") as handle:
                    return {"string": handle.read(), "mime_type": _mime(relative), "redirected_url": url}
            break
    raise ForbiddenResource(f"PDF renderer refused to fetch {url!r}")


def _mime(name: str) -> str:
    return {"css": "text/css", "png": "image/png", "svg": "image/svg+xml", "woff2": "font/woff2"}.get(
        name.rsplit(".", 1)[-1], "application/octet-stream"
    )


def render_pdf(template: str, context: dict) -> bytes:
    from weasyprint import HTML

    html = render_to_string(template, context)
    return HTML(string=html, base_url=settings.SITE_URL + "/", url_fetcher=static_only_url_fetcher).write_pdf()
