"""The crawl's parts that need no browser: page shapes, the language check, and the markup rule it enforces."""

import re
from pathlib import Path

from .crawler import shape
from .language import Catalogue

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


def test_pages_of_one_kind_share_a_shape():
    assert shape("/proposals/13/") == shape("/proposals/14/") == "/proposals/N/"
    assert shape("/notifications/unsubscribe/MQ:1xZgxO:MBPgMzcCwyJLjqZ2A-gC7CyrTvzJkCXq6DzmM/") == (
        shape("/notifications/unsubscribe/Mw:1xZhB5:agEEOoE4Q-GBfjtwNwQd3bSDIoujpaQJrMvsglaLfh8/"))
    assert shape("/panels/1/?sort=rank&recommendation=fund") == "/panels/N/?recommendation&sort"
    assert shape("/admin/calls/call/?state__exact=open") == shape("/admin/calls/call/") == "/admin/calls/call/"
    assert shape("/admin/calls/call/3/delete/") == shape("/admin/reviews/panel/1/delete/")
    assert shape("/admin/calls/call/3/change/") != shape("/admin/reviews/panel/1/change/")


def test_the_language_check_finds_the_other_language_only():
    catalogue = Catalogue.load()
    english_page = "Submit the proposal\nYour proposal was submitted."
    assert catalogue.foreign(language="fr", text=english_page, chrome=["Submit the proposal"]) != []
    assert catalogue.foreign(language="en", text=english_page, chrome=["Submit the proposal"]) == []
    french_page = "Déposer la proposition"
    assert catalogue.foreign(language="en", text=french_page, chrome=["Déposer la proposition"]) == [
        "Déposer la proposition"]
    # Names and words both languages share are not findings; nor is a phrase inside a longer word.
    assert catalogue.foreign(language="fr", text="CNRS · IEA", chrome=["English", "Français", "Total"]) == []


def test_every_wide_table_scrolls_in_a_labelled_focusable_region():
    """What the crawl checks on the pages it reaches, checked here on every template: a .table-wrap is a named
    region the keyboard can scroll (axe scrollable-region-focusable)."""
    bare = []
    for path in TEMPLATES.rglob("*.html"):
        for tag in re.findall(r"<div class=\"table-wrap\"[^>]*>", path.read_text()):
            if not ('role="region"' in tag and 'tabindex="0"' in tag and "aria-label" in tag):
                bare.append(f"{path.relative_to(TEMPLATES)}: {tag}")
    assert bare == []
