"""A reviewer's profile: their identifiers (ORCID, idHAL), their keywords and CNRS sections in each pool, and
their publications, imported from the HAL or ORCID export they already have (issue #20).

The files are read by ``publication_formats`` (one parser per format, each a maintained library); this module
saves what they hold. Every change here is one function that checks ``reviews.rules.can_edit_profile``, runs in
one transaction under a lock on the person, writes an audit entry, and marks the affinities of the person's panels
stale (``Panel.affinity_stale``): what the matching reads changed.
"""

import datetime as dt
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from iea.audit.domain import audit_record
from iea.identifiers import hal_id_normalise, orcid_normalise
from iea.roles import is_directorate

from ..models import Panel, Publication, Reviewer
from ..rules import can_edit_profile
from .conflicts import coauthor_conflicts_record_for_user
from .pool import _split_list
from .publication_formats import MAX_FILE_BYTES, MAX_WORKS, ParsedFile, Work, parse_publications

__all__ = [
    "MAX_FILE_BYTES", "MAX_WORKS", "ImportResult", "identifiers_set", "parse_publications", "publication_delete",
    "publications_import", "reviewer_profile_update",
]

# The fields an import writes, compared to tell an updated publication from an unchanged one.
WORK_FIELDS = ("title", "abstract", "keywords", "year", "venue", "doi", "authors")


def _forbidden():
    return ValidationError(_("You may not change this person's profile."), code="forbidden")


def _lock_person(user_id: int):
    """The person's row, locked: two imports (or an import and a deletion) for one person run one after the other."""
    return get_user_model().objects.select_for_update().get(pk=user_id)


def _mark_affinities_stale(person_id: int, institute_id: int | None = None) -> None:
    """The panels of the institutes whose pool holds the person (active): their affinities must be recomputed."""
    institutes = Reviewer.objects.filter(user_id=person_id, active=True).values("institute_id")
    if institute_id is not None:
        institutes = institutes.filter(institute_id=institute_id)
    Panel.objects.filter(institute_id__in=institutes, affinity_stale=False).update(affinity_stale=True)


@dataclass(frozen=True)
class ImportResult:
    source: str
    created: int
    updated: int
    unchanged: int
    skipped: int


def publications_import(*, user, file, imported_by, now: dt.datetime, source: str | None = None) -> ImportResult:
    """Add the publications of an uploaded HAL or ORCID export to the person's (``user``) profile.

    The file is read first, whole: a file that cannot be read changes nothing. A work already on the profile (same
    DOI, HAL id or ORCID put-code: ``publication_formats.work_key``) is updated, not duplicated; the same work twice
    in the file, or a work without a title, is skipped. Publications not in the file stay: an export of the last
    five years does not delete older ones (``publication_delete`` does, one at a time). ``source`` names where the
    file came from when it was not uploaded (``publication_online``).
    """
    data = file.read(MAX_FILE_BYTES + 1)
    parsed: ParsedFile = parse_publications(data)
    if source is not None:
        parsed.source = source
    try:
        return _import_parsed(person_id=user.pk, parsed=parsed, file_name=getattr(file, "name", ""),
                              imported_by=imported_by, now=now)
    except IntegrityError:
        # Two imports for one person at once, where the row lock is not enforced (SQLite): the unique
        # (person, key) constraint let one through; nothing of this one was saved.
        raise ValidationError(_("Another import for this person ran at the same moment: import the file again."),
                              code="concurrent") from None


def _import_parsed(*, person_id: int, parsed: ParsedFile, file_name: str, imported_by, now: dt.datetime):
    with transaction.atomic():
        person = _lock_person(person_id)
        if not can_edit_profile(imported_by, person):
            raise _forbidden()
        existing = {p.key: p for p in Publication.objects.filter(user=person, key__in=[w.key for w in parsed.works])}
        new, changed, unchanged = [], [], 0
        for work in parsed.works:
            values = _values(work)
            publication = existing.get(work.key)
            if publication is None:
                new.append(Publication(user=person, key=work.key, source=parsed.source, imported_at=now,
                                       imported_by=imported_by, **values))
            elif any(getattr(publication, name) != value for name, value in values.items()):
                for name, value in values.items():
                    setattr(publication, name, value)
                publication.source, publication.imported_at, publication.imported_by = parsed.source, now, imported_by
                changed.append(publication)
            else:
                unchanged += 1
        Publication.objects.bulk_create(new, batch_size=500)
        Publication.objects.bulk_update(changed, [*WORK_FIELDS, "source", "imported_at", "imported_by"],
                                        batch_size=500)
        result = ImportResult(source=parsed.source, created=len(new), updated=len(changed), unchanged=unchanged,
                              skipped=parsed.skipped)
        audit_record(actor=imported_by, target=person, action="profile.publications_import", now=now, data={
            "format": parsed.source, "file": file_name[:200], "created": result.created,
            "updated": result.updated, "unchanged": result.unchanged, "skipped": result.skipped,
        })
        if new or changed:
            _mark_affinities_stale(person.pk)
            # A co-author of a proposal the person reviews in a closed call is a conflict from now on.
            coauthor_conflicts_record_for_user(user=person, now=now)
    return result


def _values(work: Work) -> dict:
    return {
        "title": work.title, "abstract": work.abstract, "keywords": work.keywords[:4000], "year": work.year,
        "venue": work.venue[:400], "doi": work.doi, "authors": work.authors,
    }


def publication_delete(*, publication_id: int, by, now: dt.datetime) -> None:
    """Take one publication off a profile (a wrong attribution in HAL, a homonym's paper in ORCID)."""
    with transaction.atomic():
        publication = Publication.objects.filter(pk=publication_id).first()
        if publication is None:
            raise ValidationError(_("This publication is no longer on the profile."), code="gone")
        person = _lock_person(publication.user_id)
        if not can_edit_profile(by, person):
            raise _forbidden()
        deleted, _detail = Publication.objects.filter(pk=publication_id).delete()
        if not deleted:  # deleted by another request while this one waited for the lock
            return
        audit_record(actor=by, target=person, action="profile.publication_delete", now=now, data={
            "key": publication.key, "title": publication.title[:200], "year": publication.year,
        })
        _mark_affinities_stale(person.pk)


def identifiers_set(*, user, orcid: str, hal_id: str, by, now: dt.datetime) -> list[str]:
    """Record the person's ORCID iD (checksum checked, ISO 7064 11,2) and idHAL; returns the fields that changed.
    Co-author detection matches on them before names."""
    orcid, hal_id = orcid_normalise(orcid), hal_id_normalise(hal_id)
    with transaction.atomic():
        person = _lock_person(user.pk)
        if not can_edit_profile(by, person):
            raise _forbidden()
        changed = [name for name, value in (("orcid", orcid), ("hal_id", hal_id)) if getattr(person, name) != value]
        if not changed:
            return []
        before = {name: getattr(person, name) for name in changed}
        person.orcid, person.hal_id = orcid, hal_id
        person.save(update_fields=changed)
        audit_record(actor=by, target=person, action="profile.identifiers_set", now=now, data={
            "before": before, "after": {name: getattr(person, name) for name in changed},
        })
    return changed


def reviewer_profile_update(*, reviewer_id: int, keywords: str, sections: str, by, now: dt.datetime) -> list[str]:
    """A pool member's expertise keywords and CNRS sections in one institute's pool; returns what changed."""
    values = {"keywords": _split_list(keywords), "sections": _split_list(sections)}
    for name, label in (("keywords", _("The keywords")), ("sections", _("The sections"))):
        limit = Reviewer._meta.get_field(name).max_length
        if len(values[name]) > limit:
            raise ValidationError(_("%(field)s are longer than %(max)s characters: shorten them.")
                                  % {"field": label, "max": limit}, code=name)
    with transaction.atomic():
        reviewer = Reviewer.objects.select_related("user").select_for_update().get(pk=reviewer_id)
        if not can_edit_profile(by, reviewer.user) or (
                by.pk != reviewer.user_id and not is_directorate(by)
                and not Panel.objects.filter(institute_id=reviewer.institute_id, officers=by).exists()):
            raise _forbidden()
        changed = [name for name, value in values.items() if getattr(reviewer, name) != value]
        if not changed:
            return []
        before = {name: getattr(reviewer, name) for name in changed}
        for name in changed:
            setattr(reviewer, name, values[name])
        reviewer.save(update_fields=changed)
        audit_record(actor=by, target=reviewer, action="profile.expertise_update", now=now,
                     data={"before": before, "after": {name: values[name] for name in changed}})
        _mark_affinities_stale(reviewer.user_id, reviewer.institute_id)
    return changed
