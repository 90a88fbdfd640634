"""``iea.pagination.page_links`` and ``components/pagination.html``: the one pager of the long lists (the
officer's assignments and table, the decisions, the messages), each keeping its own words."""

import re

import pytest
from django.core.paginator import Paginator
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.utils import translation

from iea.pagination import page_links

ROWS = list(range(25))


def page(number, per_page=10):
    return Paginator(ROWS, per_page).get_page(number)


@pytest.mark.parametrize(("number", "links"), [
    (1, {"next": "?page=2"}),
    (2, {"previous": "?page=1", "next": "?page=3"}),
    (3, {"previous": "?page=2"}),
])
def test_only_the_pages_that_exist_are_linked(number, links):
    assert page_links(RequestFactory().get("/", {"page": number}), page(number)) == links


def test_the_links_keep_the_filters_and_the_sort():
    request = RequestFactory().get("/", {"sort": "-total", "institute": "INC", "page": "2"})

    assert page_links(request, page(2)) == {"previous": "?sort=-total&institute=INC&page=1",
                                            "next": "?sort=-total&institute=INC&page=3"}


def render(number, per_page=10, **params):
    request = RequestFactory().get("/list/", {"sort": "reference", "page": number})
    with translation.override("en"):
        html = render_to_string("components/pagination.html", {"page": page(number, per_page), **params},
                                request=request)
    return re.sub(r"\s+", " ", html).strip()


def test_a_list_of_one_page_shows_no_pager():
    assert render(1, per_page=100, label="Pages") == ""


def test_the_site_pager_names_its_navigation_and_says_which_proposals_the_page_shows():
    assert render(2, label="Pages of the panel table", proposal_range=True) == (
        '<nav class="cluster" aria-label="Pages of the panel table"> '
        '<a class="btn btn-secondary btn-small" href="?sort=reference&amp;page=1" rel="prev">Previous page</a> '
        "<span>Page 2 of 3 (proposals 11–20 of 25)</span> "
        '<a class="btn btn-secondary btn-small" href="?sort=reference&amp;page=3" rel="next">Next page</a> </nav>')


def test_a_list_of_messages_keeps_its_own_words():
    assert render(3, label="Pages of messages", previous_label="Newer messages", next_label="Older messages") == (
        '<nav class="cluster" aria-label="Pages of messages"> '
        '<a class="btn btn-secondary btn-small" href="?sort=reference&amp;page=2" rel="prev">Newer messages</a> '
        "<span>Page 3 of 3</span> </nav>")


def test_the_admin_pager_is_in_the_admins_style():
    assert render(1, admin=True, proposal_range=True) == (
        '<p class="paginator"> Page 1 of 3 (proposals 1–10 of 25) '
        '<a href="?sort=reference&amp;page=2">Next page</a> </p>')
