"""The two-tab save conflict, built once: a form saved from two windows never overwrites either silently.

A record that autosaves carries ``lock_version`` and ``updated_at``. Its form posts the version it was
loaded with; the domain's save writes nothing when another window saved since (``is_stale``), answers
with a ``SaveResult`` naming what differs, and otherwise moves the version on (``stamp_saved``). The
views read the version the user submitted (``requested_lock_version``: the loaded one, or the one they
chose to overwrite) and hand the banner its context (``conflict_context``); the templates are
``components/autosave/_saved.html``, ``_conflict.html`` and ``_lock_version.html``, given the app's own
sentences and URLs. Used by the proposal's editor and the reviewer's review form, pages and API.
"""

import datetime as dt
from dataclasses import dataclass, field
from typing import Generic, Protocol, Self, TypeVar


class Versioned(Protocol):
    lock_version: int
    updated_at: dt.datetime


T = TypeVar("T", bound=Versioned)


@dataclass
class SaveResult(Generic[T]):
    """What a draft save answers: ``saved``, or not because another window saved ``record`` since; then
    ``conflict_at`` is that save's moment and ``conflicting_fields`` the fields whose stored value differs
    from this form. ``record`` is as stored, so ``record.lock_version`` is the version to overwrite."""

    saved: bool
    record: T
    conflict_at: dt.datetime | None = None
    conflicting_fields: list[str] = field(default_factory=list)

    @classmethod
    def conflict(cls, record: T, **differing) -> Self:
        """Nothing written: ``record`` was saved elsewhere at ``record.updated_at``; ``differing`` names
        what differs (``conflicting_fields``, and whatever a subclass adds)."""
        return cls(saved=False, record=record, conflict_at=record.updated_at, **differing)


def is_stale(record: Versioned, *, lock_version: int) -> bool:
    """Whether another window saved ``record`` since the form was loaded with ``lock_version``: then the
    save must write nothing."""
    return record.lock_version != lock_version


def stamp_saved(record: Versioned, *, now: dt.datetime) -> list[str]:
    """Move the version on for a save that writes, so every other window's next save is stale; returns the
    fields to add to ``update_fields``."""
    record.lock_version += 1
    record.updated_at = now
    return ["lock_version", "updated_at"]


def requested_lock_version(request, form) -> int:
    """The version a valid form was loaded with, or the one the user chose to replace: the conflict
    banner's "Keep this window's version" posts ``overwrite_version``."""
    overwrite = request.POST.get("overwrite_version", "")
    return int(overwrite) if overwrite.isdigit() else form.cleaned_data["lock_version"]


def conflict_context(result: SaveResult, labels: list[str]) -> dict:
    """What ``components/autosave/_conflict.html`` shows: when the other window saved, the labels of the
    fields that differ, and the version "Keep this window's version" overwrites."""
    return {"at": result.conflict_at, "fields": labels, "current_version": result.record.lock_version}
