"""Importing by identifier from HAL's and ORCID's APIs (reviews.domain.publication_online), behind
PUBLICATION_IMPORT_ONLINE; HTTP is mocked (httpx.MockTransport), no network is used."""

from pathlib import Path

import httpx
import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from iea.audit.models import AuditEntry
from reviews.domain import publication_online
from reviews.domain.publication_formats import MAX_FILE_BYTES
from reviews.domain.publication_online import publications_fetch
from reviews.models import Publication

from .factories import ReviewerFactory

pytestmark = pytest.mark.django_db
FIXTURES = Path(__file__).parent / "fixtures" / "publications"


@pytest.fixture
def person():
    reviewer = ReviewerFactory(user__orcid="0000-0002-1825-0097", user__hal_id="helene-lefevre")
    return reviewer.user


@pytest.fixture
def online(settings):
    settings.PUBLICATION_IMPORT_ONLINE = True
    return settings


def _transport(seen, status=200, body=None):
    def handler(request):
        seen.append(request)
        if "archives-ouvertes" in request.url.host:
            return httpx.Response(status, content=body if body is not None else (FIXTURES / "hal.bib").read_bytes())
        return httpx.Response(status, content=body if body is not None else (FIXTURES / "orcid-works.json").read_bytes())
    return httpx.MockTransport(handler)


def test_hal_by_idhal(online, person):
    seen = []
    result = publications_fetch(user=person, source="hal", imported_by=person, now=timezone.now(),
                                transport=_transport(seen))
    assert (result.source, result.created) == ("hal_api", 2)
    [request] = seen
    assert (request.url.host, request.url.params["q"], request.url.params["wt"]) == (
        "api.archives-ouvertes.fr", 'authIdHal_s:"helene-lefevre"', "bibtex")
    assert set(Publication.objects.values_list("source", flat=True)) == {"hal_api"}
    assert AuditEntry.objects.get(action="profile.publications_import").data["format"] == "hal_api"


def test_orcid_by_orcid_id(online, person):
    seen = []
    result = publications_fetch(user=person, source="orcid", imported_by=person, now=timezone.now(),
                                transport=_transport(seen))
    assert (result.source, result.created) == ("orcid_api", 2)
    assert str(seen[0].url) == "https://pub.orcid.org/v3.0/0000-0002-1825-0097/works"
    assert seen[0].headers["accept"] == "application/json"


@pytest.mark.parametrize(("status", "body", "code"), [
    (503, b"", "unreachable"), (200, b"<html>maintenance</html>", "xml"), (200, b"@" * (MAX_FILE_BYTES + 10), "too_large"),
])
def test_a_bad_answer_saves_nothing(online, person, status, body, code):
    with pytest.raises(ValidationError) as raised:
        publications_fetch(user=person, source="hal", imported_by=person, now=timezone.now(),
                           transport=_transport([], status, body))
    assert raised.value.code == code
    assert Publication.objects.count() == 0


def test_off_by_default_and_needs_the_identifier(settings, person):
    with pytest.raises(ValidationError) as raised:
        publications_fetch(user=person, source="hal", imported_by=person, now=timezone.now(),
                           transport=_transport([]))
    assert raised.value.code == "disabled"
    settings.PUBLICATION_IMPORT_ONLINE = True
    person.hal_id = ""
    with pytest.raises(ValidationError) as raised:
        publications_fetch(user=person, source="hal", imported_by=person, now=timezone.now(),
                           transport=_transport([]))
    assert raised.value.code == "no_identifier"


def test_through_the_page(client, online, person, monkeypatch):
    seen = []
    real_client = httpx.Client
    monkeypatch.setattr(publication_online.httpx, "Client",
                        lambda **kwargs: real_client(**{**kwargs, "transport": _transport(seen)}))
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    client.force_login(person)
    page = client.get(reverse("reviewer:profile"))
    assert b'value="orcid"' in page.content
    response = client.post(reverse("reviewer:profile_fetch"), {"source": "orcid"}, follow=True)
    assert "Publications imported — new: 2" in response.content.decode()
    assert len(seen) == 1


def test_the_page_hides_it_when_off(client, person):
    client.force_login(person)
    assert b'value="orcid"' not in client.get(reverse("reviewer:profile")).content
