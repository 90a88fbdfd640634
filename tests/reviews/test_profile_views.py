"""The reviewer profile pages: the reviewer's own (reviewer:profile) and the officer's view of a pool member
(panel:reviewer_profile) — what they show, what a bad file answers, and their query counts."""

import html
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from reviews.models import Publication
from tests.factories import UserFactory, activate_totp

from .factories import PanelFactory, ReviewerFactory

pytestmark = pytest.mark.django_db
FIXTURES = Path(__file__).parent / "fixtures" / "publications"


def upload(name, data=None):
    return SimpleUploadedFile(name, (FIXTURES / name).read_bytes() if data is None else data)


@pytest.fixture
def reviewer():
    return ReviewerFactory(keywords="ecology", sections="29")


def _client(client, user, language="en"):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = language
    client.force_login(user)
    return client


def test_reviewer_imports_and_sees_publications_with_co_authors(client, reviewer):
    client = _client(client, reviewer.user)
    page = client.get(reverse("reviewer:assignments"))
    assert reverse("reviewer:profile").encode() in page.content

    response = client.post(reverse("reviewer:profile_import"), {"file": upload("hal.bib")}, follow=True)

    assert response.status_code == 200
    text = response.content.decode()
    assert "Publications imported — new: 2; updated: 0; unchanged: 0; skipped (duplicates or without a title): 2." in text
    assert "Dynamique des réseaux trophiques côtiers sous stress thermique" in text
    assert "João Da Silva" in text and "Anne-Marie Le Goff" in text
    assert [p.title for p in response.context["publications"]][0].startswith("Dynamique")


def test_a_bad_file_is_explained_in_french_and_nothing_saved(client, reviewer):
    client = _client(client, reviewer.user, "fr")
    response = client.post(reverse("reviewer:profile_import"),
                           {"file": upload("x.json", b'{"group": [')})
    assert response.status_code == 400
    assert "Le fichier JSON n'a pas pu être lu (ligne 1, colonne 12)" in html.unescape(response.content.decode())
    assert Publication.objects.count() == 0


def test_identifiers_and_expertise(client, reviewer):
    client = _client(client, reviewer.user)
    bad = client.post(reverse("reviewer:profile_identifiers"), {"orcid": "0000-0002-1825-0098", "hal_id": ""})
    assert bad.status_code == 400
    assert "its last character does not match" in html.unescape(bad.content.decode())
    client.post(reverse("reviewer:profile_identifiers"), {"orcid": "0000000218250097", "hal_id": "Jane-Doe"})
    reviewer.user.refresh_from_db()
    assert (reviewer.user.orcid, reviewer.user.hal_id) == ("0000-0002-1825-0097", "jane-doe")
    client.post(reverse("reviewer:profile_expertise", args=[reviewer.pk]),
                {f"r{reviewer.pk}-keywords": "ecology; food webs", f"r{reviewer.pk}-sections": "29, 30"})
    reviewer.refresh_from_db()
    assert (reviewer.keywords, reviewer.sections) == ("ecology, food webs", "29, 30")


def test_officer_uploads_orcid_for_a_pool_member(client, reviewer):
    officer = UserFactory()
    activate_totp(officer)
    panel = PanelFactory(institute=reviewer.institute)
    panel.officers.add(officer)
    client = _client(client, officer)
    pool = client.get(reverse("panel:pool", args=[panel.pk]))
    url = reverse("panel:reviewer_profile", args=[panel.pk, reviewer.pk])
    assert url.encode() in pool.content
    response = client.post(reverse("panel:reviewer_import", args=[panel.pk, reviewer.pk]),
                           {"file": upload("orcid-works-bulk.json")}, follow=True)
    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == url
    assert list(Publication.objects.filter(user=reviewer.user).values_list("imported_by", flat=True)) == [officer.pk] * 2
    assert "Chinedu Okafor" in response.content.decode()


def _publications(person, n, start):
    Publication.objects.bulk_create(Publication(
        user=person, source="hal_bibtex", key=f"hal:hal-{start + i}", title=f"Paper {start + i}", year=2020,
        venue="Journal", authors=[{"name": "A B", "orcid": "", "hal_id": ""}], imported_at=timezone.now())
        for i in range(n))


def test_publications_list_query_count(client, queries, reviewer):
    client = _client(client, reviewer.user)
    made = {"n": 0}

    def grow(n):
        _publications(reviewer.user, n, made["n"])
        made["n"] += n

    hit = lambda: client.get(reverse("reviewer:profile"))  # noqa: E731
    # Session, user, roles, the pools, the count and the page of publications.
    assert queries.at_sizes(grow, hit, sizes=(1, 30)) == (6, 6)


def test_officer_profile_query_count(client, queries, reviewer):
    officer = UserFactory()
    activate_totp(officer)
    panel = PanelFactory(institute=reviewer.institute)
    panel.officers.add(officer)
    client = _client(client, officer)
    made = {"n": 0}

    def grow(n):
        _publications(reviewer.user, n, made["n"])
        made["n"] += n

    hit = lambda: client.get(reverse("panel:reviewer_profile", args=[panel.pk, reviewer.pk]))  # noqa: E731
    counts = queries.at_sizes(grow, hit, sizes=(1, 30))
    assert counts[0] == counts[1]
    assert counts == (8, 8)
