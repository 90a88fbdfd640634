"""``call_allowed_actions``: the one answer to "what may the directorate do with this call now", derived from
``TRANSITIONS`` and ``EXTENDABLE``; the call's admin page offers exactly these."""

import re

import pytest
from django.urls import reverse

from calls.domain import call_allowed_actions
from calls.models import Call, CallState
from tests.factories import CallFactory

EXPECTED = {
    CallState.DRAFT: {"publish", "open", "clone"},
    CallState.PUBLISHED: {"open", "extend", "clone", "screening", "decisions"},
    CallState.OPEN: {"close", "extend", "clone", "screening", "decisions"},
    CallState.CLOSED: {"start_review", "extend", "clone", "screening", "decisions"},
    CallState.IN_REVIEW: {"mark_decided", "clone", "screening", "decisions"},
    CallState.DECIDED: {"clone", "screening", "decisions"},
    CallState.ARCHIVED: {"clone", "screening", "decisions"},
}


def test_every_state_is_covered():
    assert set(EXPECTED) == set(CallState.values)


@pytest.mark.parametrize(("state", "actions"), EXPECTED.items())
def test_the_actions_a_call_allows_in_each_state(state, actions):
    assert call_allowed_actions(Call(state=state)) == frozenset(actions)


# The actions that are pages of their own, linked from the call's page (``/<pk>/<action>/``).
PAGE_ACTIONS = ("close", "extend", "clone", "screening", "decisions")


@pytest.mark.django_db
@pytest.mark.parametrize("state", sorted(CallState.values))
def test_the_call_page_offers_the_allowed_page_actions_only(client, staff, state):
    call = CallFactory(state=state)
    client.force_login(staff)

    html = client.get(reverse("admin:calls_call_change", args=[call.pk])).content.decode()
    tools = re.search(r'<ul class="object-tools">(.*?)</ul>', html, re.S).group(1)
    offered = {name for name in PAGE_ACTIONS if f"/{call.pk}/{name}/" in tools}

    assert offered == EXPECTED[state] & set(PAGE_ACTIONS)
