"""The API speaks JSON only: it has one URL per resource and action, without DRF's format-suffix copies
(``/invite.json/``), which no client needs and whose action views crashed (500) on the extra ``format``
argument."""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from tests.factories import ProposalFactory


def _api_patterns(patterns, prefix=""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from _api_patterns(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern) and prefix.startswith("api/"):
            yield prefix + str(entry.pattern)


def test_no_api_route_takes_a_format_suffix():
    routes = list(_api_patterns(get_resolver().url_patterns))
    assert len(routes) > 30  # the walk found the router's routes
    assert [route for route in routes if "format" in route] == []


@pytest.mark.django_db
@pytest.mark.parametrize("action", ["invite", "letter", "submit", "team", "withdraw"])
def test_an_action_with_a_suffix_is_the_json_not_found(api_client, action):
    draft = ProposalFactory(complete=True)
    response = api_client(draft.pi).post(f"/api/v1/proposals/{draft.reference}/{action}.json/", {}, format="json")
    assert (response.status_code, response.json()["error"]["code"]) == (404, "not_found")
