"""``iea.autosave``, the two-tab save conflict kit: a save from a window loaded before another window's save
writes nothing and says what differs; "Keep this window's version" overwrites explicitly."""

import datetime as dt
from dataclasses import dataclass, field

import pytest
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.utils import translation

from iea.autosave import SaveResult, conflict_context, is_stale, requested_lock_version, stamp_saved

EARLIER = dt.datetime(2027, 9, 1, 8, 0, tzinfo=dt.UTC)
NOW = dt.datetime(2027, 9, 1, 9, 30, tzinfo=dt.UTC)


@dataclass
class Draft:
    lock_version: int = 3
    updated_at: dt.datetime = EARLIER


class LoadedForm:
    """A valid form, as far as the kit reads it: the version it was loaded with."""

    def __init__(self, lock_version):
        self.cleaned_data = {"lock_version": lock_version}


@pytest.mark.parametrize(("loaded", "stale"), [(3, False), (2, True), (4, True)])
def test_a_form_is_stale_unless_loaded_with_the_stored_version(loaded, stale):
    assert is_stale(Draft(), lock_version=loaded) is stale


def test_a_save_that_writes_moves_the_version_on_and_names_the_fields_it_touched():
    draft = Draft()

    fields = stamp_saved(draft, now=NOW)

    assert (fields, draft.lock_version, draft.updated_at) == (["lock_version", "updated_at"], 4, NOW)
    assert is_stale(draft, lock_version=3) is True


def test_a_conflict_carries_the_other_saves_moment_and_what_differs():
    draft = Draft()

    result = SaveResult.conflict(draft, conflicting_fields=["title"])

    assert (result.saved, result.record, result.conflict_at, result.conflicting_fields) == (
        False, draft, EARLIER, ["title"])


def test_a_subclass_adds_what_else_differs():
    @dataclass
    class WithParts(SaveResult):
        conflicting_parts: list[int] = field(default_factory=list)

    result = WithParts.conflict(Draft(), conflicting_fields=[], conflicting_parts=[7])

    assert (type(result), result.conflicting_parts, result.conflict_at) == (WithParts, [7], EARLIER)


@pytest.mark.parametrize(("posted", "version"), [
    ({}, 3),
    ({"overwrite_version": "5"}, 5),
    ({"overwrite_version": ""}, 3),
    ({"overwrite_version": "five"}, 3),
    ({"overwrite_version": "-1"}, 3),
])
def test_the_requested_version_is_the_loaded_one_unless_the_user_chose_to_overwrite(posted, version):
    request = RequestFactory().post("/", posted)

    assert requested_lock_version(request, LoadedForm(3)) == version


def test_the_conflict_context_is_what_the_banner_shows():
    result = SaveResult.conflict(Draft(lock_version=6), conflicting_fields=["title"])

    assert conflict_context(result, ["Title"]) == {"at": EARLIER, "fields": ["Title"], "current_version": 6}


def test_the_banner_takes_the_apps_sentence_form_and_reload_url():
    conflict = conflict_context(SaveResult.conflict(Draft(lock_version=6), conflicting_fields=[]), ["Title", "Budget"])

    with translation.override("en"):
        html = render_to_string("components/autosave/_conflict.html", {
            "conflict": conflict, "oob": True, "saved_elsewhere": "This thing was saved elsewhere.",
            "reload_url": "/things/1/", "form_id": "thing-form"})

    assert html.startswith('<div id="conflict" hx-swap-oob="true">')
    assert "<p>This thing was saved elsewhere.</p>" in html
    assert "<p>Fields that differ from the saved version: Title, Budget</p>" in html
    assert '<a class="btn btn-secondary" href="/things/1/">' in html
    assert 'form="thing-form" name="overwrite_version" value="6"' in html


def test_the_banner_is_an_empty_target_and_the_new_version_is_sent_only_without_a_conflict():
    assert render_to_string("components/autosave/_conflict.html", {"conflict": None}) == '<div id="conflict"></div>\n'
    assert render_to_string("components/autosave/_lock_version.html", {"lock_version": 4}) == (
        '<input type="hidden" name="lock_version" value="4" id="id_lock_version" hx-swap-oob="true">')
    # In a conflict the form keeps the version it was loaded with: its next save must still be refused.
    assert render_to_string("components/autosave/_lock_version.html", {"lock_version": 4, "conflict": {"at": NOW}}) == ""
