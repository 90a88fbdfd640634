"""Reading HAL and ORCID exports (reviews.domain.publication_formats) and saving them on a reviewer's profile
(reviews.domain.publications): parsing of each real format, identifiers, upsert, audit, staleness, access."""

from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from iea.audit.models import AuditEntry
from iea.identifiers import hal_id_normalise, orcid_normalise
from reviews.domain.publication_formats import MAX_FILE_BYTES, parse_publications
from reviews.domain.publications import (
    identifiers_set,
    publication_delete,
    publications_import,
    reviewer_profile_update,
)
from reviews.models import Panel, Publication
from tests.factories import StaffFactory, UserFactory

from .factories import PanelFactory, ReviewerFactory

FIXTURES = Path(__file__).parent / "fixtures" / "publications"
TITLE_FR = "Dynamique des réseaux trophiques côtiers sous stress thermique"
TITLE_EN = "Coastal food webs under repeated heatwaves: a mesocosm study"
DOI = "10.1016/j.jme.2023.04.011"


def read(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def upload(name: str, data: bytes | None = None) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, read(name) if data is None else data)


# --- Identifiers -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("given", "expected"), [
    ("0000-0002-1825-0097", "0000-0002-1825-0097"),
    ("https://orcid.org/0000-0002-1825-0097", "0000-0002-1825-0097"),
    ("0000000218250097", "0000-0002-1825-0097"),
    ("0000-0002-1694-233x", "0000-0002-1694-233X"),
    ("", ""),
])
def test_orcid_normalised(given, expected):
    assert orcid_normalise(given) == expected


@pytest.mark.parametrize(("given", "code"), [
    ("0000-0002-1825-0098", "orcid_checksum"), ("0000-0002-1825", "orcid_format"), ("jean-dupont", "orcid_format"),
])
def test_orcid_refused(given, code):
    with pytest.raises(ValidationError) as raised:
        orcid_normalise(given)
    assert raised.value.code == code


def test_hal_id_lowercased_and_checked():
    assert hal_id_normalise(" Helene-Lefevre ") == "helene-lefevre"
    assert hal_id_normalise("https://cv.hal.science/helene-lefevre/") == "helene-lefevre"
    with pytest.raises(ValidationError):
        hal_id_normalise("hélène lefèvre")


# --- Parsing each format -----------------------------------------------------------------------------------------

def test_hal_bibtex():
    parsed = parse_publications(read("hal.bib"))
    assert parsed.source == "hal_bibtex"
    assert [w.title for w in parsed.works] == [TITLE_FR, TITLE_EN]
    first, second = parsed.works
    # LaTeX accents decoded, "Last, First" names split by bibtexparser and kept as written, in order.
    assert [a["name"] for a in first.authors] == ["Hélène Lefèvre", "João Da Silva", "Anne-Marie Le Goff"]
    assert first.abstract == ("Nous étudions la réponse des réseaux trophiques côtiers à des épisodes de stress "
                              "thermique répétés. Les résultats montrent une simplification des chaînes alimentaires.")
    assert first.keywords == "réseaux trophiques, stress thermique, écosystèmes côtiers"
    assert (first.year, first.venue, first.doi, first.key) == (2023, "Journal of Marine Ecology", DOI, f"doi:{DOI}")
    assert (second.venue, second.doi, second.key, second.abstract) == (
        "ASLO Aquatic Sciences Meeting", "", "hal:hal-03987654", "")
    # The same DOI again (in capitals) and an entry without a title are skipped.
    assert parsed.skipped == 2


def test_hal_csv():
    parsed = parse_publications(read("hal.csv"))
    assert parsed.source == "hal_csv"
    first, second = parsed.works
    assert first.authors == [
        {"name": "Hélène Lefèvre", "orcid": "", "hal_id": "helene-lefevre"},
        {"name": "João Da Silva", "orcid": "", "hal_id": "joao-da-silva"},
        {"name": "Anne-Marie Le Goff", "orcid": "", "hal_id": "anne-marie-le-goff"},
    ]
    assert first.abstract.startswith("Nous étudions") and "\n" not in first.abstract
    assert (first.year, first.keywords) == (2023, "réseaux trophiques, stress thermique")
    # An identifier column listing fewer values than authors cannot be matched to names: left empty.
    assert [a["hal_id"] for a in second.authors] == ["", ""]
    assert parsed.skipped == 1


def test_hal_tei():
    parsed = parse_publications(read("hal-tei.xml"))
    assert parsed.source == "hal_tei"
    first, second = parsed.works
    assert first.authors == [
        {"name": "Hélène Lefèvre", "orcid": "0000-0002-1825-0097", "hal_id": "helene-lefevre"},
        {"name": "João Da Silva", "orcid": "", "hal_id": ""},
    ]
    assert (first.title, first.year, first.venue, first.doi) == (TITLE_FR, 2023, "Journal of Marine Ecology", DOI)
    assert first.abstract == ("Nous étudions la réponse des réseaux trophiques côtiers à des épisodes de stress "
                              "thermique répétés.")
    assert first.keywords == "réseaux trophiques, stress thermique"
    assert (second.venue, second.year, second.key) == ("ASLO Aquatic Sciences Meeting", 2022, "hal:hal-03987654")


def test_orcid_works_summary():
    parsed = parse_publications(read("orcid-works.json"))
    assert parsed.source == "orcid_json"
    assert [(w.title, w.year, w.venue, w.key, w.authors) for w in parsed.works] == [
        (TITLE_FR, 2023, "Journal of Marine Ecology", f"doi:{DOI}", []),
        (TITLE_EN, 2022, "ASLO Aquatic Sciences Meeting", "orcid:120098765", []),
    ]
    assert parsed.skipped == 1  # the work without a title


def test_orcid_works_bulk_keeps_contributors():
    parsed = parse_publications(read("orcid-works-bulk.json"))
    first, second = parsed.works
    assert first.authors == [
        {"name": "Hélène Lefèvre", "orcid": "0000-0002-1825-0097", "hal_id": ""},
        {"name": "João Da Silva", "orcid": "", "hal_id": ""},
        {"name": "Anne-Marie Le Goff", "orcid": "0000-0001-5109-3700", "hal_id": ""},
    ]
    assert first.abstract.startswith("Nous étudions") and "\n" not in first.abstract
    # An ORCID iD with a wrong check digit is dropped, the name kept.
    assert second.authors[1] == {"name": "Chinedu Okafor", "orcid": "", "hal_id": ""}


@pytest.mark.django_db
def test_format_is_read_from_the_content_not_the_name(reviewer):
    result = publications_import(user=reviewer.user, file=upload("publications.bib", read("hal-tei.xml")),
                                 imported_by=reviewer.user, now=timezone.now())
    assert result.source == "hal_tei"


@pytest.mark.parametrize(("data", "code"), [
    (b"", "empty"),
    (b"just some text", "unknown_format"),
    (b"@article{x,\n  TITLE = {Unclosed,\n", "bibtex"),
    (b"<TEI xmlns='http://www.tei-c.org/ns/1.0'><text>", "xml"),
    (b"<html><body>not TEI</body></html>", "xml"),
    (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><TEI xmlns="http://www.tei-c.org/ns/1.0">&a;</TEI>',
     "xml"),
    (b'{"group": [', "json"),
    (b'{"name": "not orcid"}', "json"),
    (b"title_s,halId_s\n", "no_work"),
    (b"halId_s,authFullName_s\nhal-1,A B\n", "csv"),
    ("é".encode("latin-1") + b"@article", "encoding"),
])
def test_malformed_files_are_refused_with_a_reason(data, code):
    with pytest.raises(ValidationError) as raised:
        parse_publications(data)
    assert raised.value.code == code
    assert raised.value.messages[0]


def test_bibtex_duplicate_keys_are_skipped_and_a_repeated_field_refused():
    parsed = parse_publications(b"@article{a,\n TITLE = {One},\n YEAR = {2020}\n}\n"
                                b"@article{a,\n TITLE = {Two},\n YEAR = {2021}\n}\n")
    assert ([w.title for w in parsed.works], parsed.skipped) == (["One"], 1)
    with pytest.raises(ValidationError) as raised:
        parse_publications(b"@article{b,\n TITLE = {Three},\n TITLE = {Again}\n}\n")
    assert "gives the same field twice" in raised.value.messages[0]


def test_a_file_too_large_is_refused():
    with pytest.raises(ValidationError) as raised:
        parse_publications(b"@" + b" " * MAX_FILE_BYTES)
    assert raised.value.code == "too_large"


# --- Saving ------------------------------------------------------------------------------------------------------

@pytest.fixture
def reviewer(db):
    return ReviewerFactory()


@pytest.mark.django_db
def test_import_creates_then_updates_and_audits(reviewer):
    person, now = reviewer.user, timezone.now()
    panel = PanelFactory(institute=reviewer.institute)
    other_panel = PanelFactory()
    Panel.objects.update(affinity_stale=False)

    result = publications_import(user=person, file=upload("hal.bib"), imported_by=person, now=now)

    assert (result.source, result.created, result.updated, result.unchanged, result.skipped) == ("hal_bibtex", 2, 0, 0, 2)
    saved = Publication.objects.get(user=person, key=f"doi:{DOI}")
    assert (saved.title, saved.source, saved.imported_by) == (TITLE_FR, "hal_bibtex", person)
    assert saved.authors[0] == {"name": "Hélène Lefèvre", "orcid": "", "hal_id": ""}
    entry = AuditEntry.objects.get(action="profile.publications_import")
    assert (entry.actor_id, entry.data["created"], entry.data["format"]) == (person.pk, 2, "hal_bibtex")
    assert Panel.objects.get(pk=panel.pk).affinity_stale is True
    assert Panel.objects.get(pk=other_panel.pk).affinity_stale is False

    # The bulk ORCID record of the same works: the DOI'd one is updated (authors' ORCID iDs), none duplicated.
    again = publications_import(user=person, file=upload("orcid-works-bulk.json"), imported_by=person, now=now)
    assert (again.created, again.updated) == (1, 1)  # the conference paper has no DOI: ORCID's put-code is new
    assert Publication.objects.filter(user=person).count() == 3
    saved.refresh_from_db()
    assert saved.authors[2]["orcid"] == "0000-0001-5109-3700"
    same = publications_import(user=person, file=upload("orcid-works-bulk.json"), imported_by=person, now=now)
    assert (same.created, same.updated, same.unchanged) == (0, 0, 2)


@pytest.mark.django_db
def test_a_bad_file_saves_nothing(reviewer):
    person = reviewer.user
    with pytest.raises(ValidationError):
        publications_import(user=person, file=upload("x.bib", b"@article{x,\n TITLE = {"), imported_by=person,
                            now=timezone.now())
    assert Publication.objects.count() == 0
    assert not AuditEntry.objects.filter(action="profile.publications_import").exists()


@pytest.mark.django_db
def test_who_may_import(reviewer):
    now = timezone.now()
    officer, other_officer, stranger = UserFactory(), UserFactory(), UserFactory()
    PanelFactory(institute=reviewer.institute).officers.add(officer)
    PanelFactory().officers.add(other_officer)
    for allowed in (reviewer.user, officer, StaffFactory()):
        publications_import(user=reviewer.user, file=upload("hal.csv"), imported_by=allowed, now=now)
    for refused in (other_officer, stranger):
        with pytest.raises(ValidationError) as raised:
            publications_import(user=reviewer.user, file=upload("hal-tei.xml"), imported_by=refused, now=now)
        assert raised.value.code == "forbidden"
    # Someone in no pool has no profile to fill.
    with pytest.raises(ValidationError):
        publications_import(user=stranger, file=upload("hal.csv"), imported_by=stranger, now=now)
    assert Publication.objects.filter(user=stranger).count() == 0


@pytest.mark.django_db
def test_delete_one_publication(reviewer):
    now, person = timezone.now(), reviewer.user
    publications_import(user=person, file=upload("hal.bib"), imported_by=person, now=now)
    target = Publication.objects.get(key="hal:hal-03987654")
    with pytest.raises(ValidationError):
        publication_delete(publication_id=target.pk, by=UserFactory(), now=now)
    publication_delete(publication_id=target.pk, by=person, now=now)
    assert list(Publication.objects.values_list("key", flat=True)) == [f"doi:{DOI}"]
    assert AuditEntry.objects.get(action="profile.publication_delete").data["key"] == "hal:hal-03987654"


@pytest.mark.django_db
def test_identifiers_set(reviewer):
    now, person = timezone.now(), reviewer.user
    assert identifiers_set(user=person, orcid="https://orcid.org/0000-0002-1825-0097", hal_id="Helene-Lefevre",
                           by=person, now=now) == ["orcid", "hal_id"]
    person.refresh_from_db()
    assert (person.orcid, person.hal_id) == ("0000-0002-1825-0097", "helene-lefevre")
    assert identifiers_set(user=person, orcid="0000000218250097", hal_id="helene-lefevre", by=person, now=now) == []
    with pytest.raises(ValidationError):
        identifiers_set(user=person, orcid="0000-0002-1825-0098", hal_id="", by=person, now=now)
    person.refresh_from_db()
    assert person.orcid == "0000-0002-1825-0097"
    assert AuditEntry.objects.filter(action="profile.identifiers_set").count() == 1


@pytest.mark.django_db
def test_reviewer_profile_update(reviewer):
    now = timezone.now()
    panel = PanelFactory(institute=reviewer.institute)
    Panel.objects.update(affinity_stale=False)
    changed = reviewer_profile_update(reviewer_id=reviewer.pk, keywords="écologie ;trophic webs,, ", sections="29; 30",
                                      by=reviewer.user, now=now)
    reviewer.refresh_from_db()
    assert (changed, reviewer.keywords, reviewer.sections) == (["keywords", "sections"], "écologie, trophic webs",
                                                               "29, 30")
    assert Panel.objects.get(pk=panel.pk).affinity_stale is True
    other_officer = UserFactory()
    PanelFactory().officers.add(other_officer)
    with pytest.raises(ValidationError):
        reviewer_profile_update(reviewer_id=reviewer.pk, keywords="x", sections="", by=other_officer, now=now)
    with pytest.raises(ValidationError) as raised:
        reviewer_profile_update(reviewer_id=reviewer.pk, keywords="x" * 401, sections="", by=reviewer.user, now=now)
    assert raised.value.code == "keywords"


@pytest.mark.django_db
def test_a_concurrent_import_that_collides_is_refused_cleanly(reviewer, monkeypatch):
    """Where the row lock is not enforced (SQLite), the unique (person, key) constraint catches the second of two
    simultaneous imports: simulated by a row written between reading and saving."""
    person, now = reviewer.user, timezone.now()
    real_bulk_create = Publication.objects.bulk_create

    def racing_bulk_create(objs, **kwargs):
        Publication.objects.create(user=person, source="hal_bibtex", key=objs[0].key, title="x", imported_at=now)
        return real_bulk_create(objs, **kwargs)

    monkeypatch.setattr(Publication.objects, "bulk_create", racing_bulk_create)
    with pytest.raises(ValidationError) as raised:
        publications_import(user=person, file=upload("hal.bib"), imported_by=person, now=now)
    assert raised.value.code == "concurrent"
    assert Publication.objects.count() == 0
