"""One way to hand out a private file: as an attachment, never sniffed, never cached by a proxy."""

from django.http import FileResponse, HttpResponse
from django.utils.http import content_disposition_header


def private_download(content, *, filename: str, content_type: str) -> HttpResponse:
    """``content`` is bytes (rendered PDFs, exports) or an open file (stored letters, streamed)."""
    if isinstance(content, bytes):
        response = HttpResponse(content, content_type=content_type)
        response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=filename)
    else:
        response = FileResponse(content, as_attachment=True, filename=filename, content_type=content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response
