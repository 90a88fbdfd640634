"""Importing a person's publications by identifier, where the deployment can reach HAL and ORCID
(``settings.PUBLICATION_IMPORT_ONLINE``, off by default): HAL's search API answers in BibTeX for an idHAL, ORCID's
public API with the works summary for an ORCID iD. What they answer is read and saved exactly as an uploaded
export is (``publications.publications_import``): same parsers, same limits, same audit."""

import datetime as dt
import io

import httpx
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from ..models import PublicationSource
from .publication_formats import MAX_FILE_BYTES, MAX_WORKS
from .publications import ImportResult, publications_import

TIMEOUT = httpx.Timeout(20.0, connect=5.0)


def _request(*, source: str, person) -> httpx.Request:
    if source == "hal":
        if not person.hal_id:
            raise ValidationError(_("Record the idHAL first."), code="no_identifier")
        return httpx.Request("GET", settings.PUBLICATION_HAL_API, params={
            "q": f'authIdHal_s:"{person.hal_id}"', "wt": "bibtex", "rows": str(MAX_WORKS)})
    if source == "orcid":
        if not person.orcid:
            raise ValidationError(_("Record the ORCID iD first."), code="no_identifier")
        return httpx.Request("GET", f"{settings.PUBLICATION_ORCID_API}{person.orcid}/works",
                             headers={"Accept": "application/json"})
    raise ValidationError(_("Choose HAL or ORCID."), code="source")


def publications_fetch(*, user, source: str, imported_by, now: dt.datetime,
                       transport: httpx.BaseTransport | None = None) -> ImportResult:
    """Fetch the person's (``user``) publications from HAL (``source="hal"``, by their idHAL) or ORCID
    (``"orcid"``, by their ORCID iD) and import them. The identifiers are the ones recorded on the person, never
    typed here; an answer over the upload limit, or no answer, saves nothing and says why."""
    if not settings.PUBLICATION_IMPORT_ONLINE:
        raise ValidationError(_("Importing from HAL or ORCID directly is not enabled here: upload an export."),
                              code="disabled")
    request = _request(source=source, person=user)
    name = "HAL" if source == "hal" else "ORCID"
    try:
        with httpx.Client(transport=transport, timeout=TIMEOUT, follow_redirects=False) as client:
            response = client.send(request, stream=True)
            try:
                response.raise_for_status()
                body = b""
                for chunk in response.iter_bytes():
                    body += chunk
                    if len(body) > MAX_FILE_BYTES:
                        raise ValidationError(_("%(source)s answered with more than %(size)s MB: upload an export "
                                                "instead.") % {"source": name, "size": MAX_FILE_BYTES // 1048576},
                                              code="too_large")
            finally:
                response.close()
    except httpx.HTTPError:
        raise ValidationError(_("%(source)s could not be reached or refused the request; try again later, or upload "
                                "an export.") % {"source": name}, code="unreachable") from None
    file = io.BytesIO(body)
    file.name = f"{source}-api"
    return publications_import(user=user, file=file, imported_by=imported_by, now=now,
                               source=PublicationSource.HAL_API if source == "hal" else PublicationSource.ORCID_API)
