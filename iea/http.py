"""How a private file leaves the app: as an attachment, never sniffed, never cached by a proxy, and only
after the view checked who asks.

- ``private_download``: bytes made for the request (rendered PDFs, exports);
- ``stored_file_download``: an uploaded file. Streamed by Django by default; with S3-compatible storage, a
  redirect to a signed URL that expires in ``S3_URL_SECONDS``; with ``PRIVATE_FILES_SERVE=nginx``, an empty
  answer whose ``X-Accel-Redirect`` header tells nginx to send the file from its internal location.
"""

from urllib.parse import quote

from django.conf import settings
from django.http import FileResponse, HttpResponse, HttpResponseRedirect
from django.utils.http import content_disposition_header

from .files import safe_filename


def _private(response: HttpResponse) -> HttpResponse:
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


def _attachment_name(filename: str) -> str:
    # Names are built from references and titles: no control or bidirectional character reaches the header.
    return safe_filename(filename, default="download", extension=None)


def private_download(content: bytes, *, filename: str, content_type: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=_attachment_name(filename))
    return _private(response)


def stored_file_download(field_file, *, filename: str, content_type: str) -> HttpResponse:
    """``field_file``: a ``FieldFile`` of the default (private) storage, e.g. ``letter.file``."""
    filename = _attachment_name(filename)
    disposition = content_disposition_header(as_attachment=True, filename=filename)
    storage = field_file.storage
    if getattr(storage, "bucket_name", None):
        url = storage.url(field_file.name, parameters={
            "ResponseContentDisposition": disposition, "ResponseContentType": content_type,
            "ResponseCacheControl": "private, no-store"})
        return _private(HttpResponseRedirect(url))
    if settings.PRIVATE_FILES_SERVE == "nginx":
        response = HttpResponse(content_type=content_type)
        response["Content-Disposition"] = disposition
        response["X-Accel-Redirect"] = settings.PRIVATE_FILES_NGINX_PREFIX + quote(field_file.name)
        return _private(response)
    response = FileResponse(field_file.open("rb"), as_attachment=True, filename=filename, content_type=content_type)
    return _private(response)
