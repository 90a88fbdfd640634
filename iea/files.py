"""The uploaded files: the names people see, and the stored files no row refers to any more.

- ``safe_filename``: what an uploader called a file, reduced to a name safe to show and to send in a
  ``Content-Disposition`` header. Used at every upload and for every download.
- ``stored_names``, ``referenced_names``, ``orphan_files``: what the ``orphan_files`` command lists. The
  core knows no app: the references are read from every ``FileField`` of every installed model.
- ``delete_on_commit``: remove stored files once the transaction that stopped referring to them commits.
"""

import datetime as dt
import logging
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from django.apps import apps
from django.core.files.storage import Storage, default_storage
from django.db import models, transaction

log = logging.getLogger("iea.files")


def safe_filename(name: str | None, *, default: str, extension: str | None = ".pdf", max_length: int = 200) -> str:
    """``name`` without folders, without invisible or control characters, in Unicode NFC, on one line,
    with no leading dot (a hidden file) nor trailing dots or spaces (Windows drops them), and ending in
    ``extension`` when one is given: a known extension other than it is replaced ("x.exe" becomes "x.pdf"),
    anything else gets it appended. Accented letters and other scripts stay. ``default`` when nothing is left.
    """
    name = unicodedata.normalize("NFC", name or "").replace("\\", "/").rsplit("/", 1)[-1]
    # Unicode's "Other" categories go: controls (Cc), format characters (Cf: bidirectional overrides and
    # isolates, zero-width spaces and joiners, soft hyphens), surrogates, private use, unassigned code points.
    # A right-to-left override makes "lettre\u202efdp.exe" read as "lettreexe.pdf".
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C")
    # Every run of white space (no-break spaces, line and paragraph separators…) becomes one plain space.
    name = unicodedata.normalize("NFC", " ".join(name.split())).strip(" .")
    if extension is None:
        return name[:max_length].rstrip(" .") or default
    stem, dot, suffix = name.rpartition(".")
    if not (dot and suffix.isascii() and suffix.isalnum() and not suffix.isdigit() and len(suffix) <= 8):
        stem = name  # no extension, or something that is not one ("report v1.2"): keep it all
    stem = stem[: max_length - len(extension)].rstrip(" .")
    return f"{stem}{extension}" if stem else default


def file_fields() -> Iterator[tuple[type[models.Model], str]]:
    """(model, field name) of every ``FileField`` (and ``ImageField``) of the installed models."""
    for model in apps.get_models():
        for field in model._meta.get_fields():
            if isinstance(field, models.FileField) and not field.many_to_many:
                yield model, field.name


def referenced_names() -> set[str]:
    """Every stored name a row refers to."""
    names: set[str] = set()
    for model, field in file_fields():
        names.update(model._base_manager.exclude(**{field: ""}).exclude(**{f"{field}__isnull": True})
                     .values_list(field, flat=True).iterator())
    return names


def stored_names(storage: Storage = default_storage, folder: str = "") -> Iterator[str]:
    """Every file in ``storage`` under ``folder`` (the whole storage by default), sorted by folder."""
    try:
        folders, files = storage.listdir(folder)
    except FileNotFoundError:
        return
    prefix = f"{folder.rstrip('/')}/" if folder else ""
    for name in sorted(files):
        yield prefix + name
    for sub in sorted(folders):
        yield from stored_names(storage, prefix + sub)


@dataclass(frozen=True)
class Orphan:
    name: str
    size: int
    modified_at: dt.datetime


def orphan_files(*, now: dt.datetime, min_age: dt.timedelta, storage: Storage = default_storage) -> list[Orphan]:
    """The stored files no row refers to (left by a deleted row, or by an upload made before replaced files
    were removed), last written at least ``min_age`` before ``now``: an upload writes its file a moment
    before its row commits, and that file is not an orphan."""
    referenced = referenced_names()
    orphans = []
    for name in stored_names(storage):
        if name in referenced:
            continue
        modified_at = storage.get_modified_time(name)
        if modified_at <= now - min_age:
            orphans.append(Orphan(name=name, size=storage.size(name), modified_at=modified_at))
    return orphans


def orphans_delete(orphans: Iterable[Orphan], *, storage: Storage = default_storage) -> int:
    """Delete the given orphans, each only if still unreferenced (read again now), logging each one."""
    referenced = referenced_names()
    deleted = 0
    for orphan in orphans:
        if orphan.name in referenced:
            continue
        storage.delete(orphan.name)
        log.info("Deleted the orphan file %s (%s bytes, last written %s)", orphan.name, orphan.size,
                 orphan.modified_at.isoformat())
        deleted += 1
    return deleted


def delete_on_commit(names: Iterable[str], storage: Storage = default_storage) -> None:
    """Delete the stored files once the current transaction commits (never before: a rollback would leave
    rows pointing to nothing). Outside a transaction, at once."""
    names = [name for name in names if name]
    if not names:
        return

    def delete():
        for name in names:
            storage.delete(name)

    transaction.on_commit(delete)
