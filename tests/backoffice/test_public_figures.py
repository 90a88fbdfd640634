"""The public figures of a call (/calls/<year>/figures/): a 404 until the directorate ticks ``figures_public``
(staff see a preview), then counts and rates for anyone — never an amount — cached an hour per language."""

import pytest
from django.core.cache import cache
from django.urls import reverse

from calls.models import Call, CallState
from funding.models import AwardState
from iea.site.figures import cache_key
from proposals.models import ProposalState
from reviews.models import DecisionOutcome
from tests.backoffice.test_statistics import World
from tests.factories import StaffFactory, UserFactory

pytestmark = pytest.mark.django_db

NBSP = "\u00a0"


@pytest.fixture
def world(settings):
    settings.LANGUAGE_CODE = "en"
    cache.clear()
    w = World()
    w.proposal(2030, ProposalState.FUNDED, outcome=DecisionOutcome.SELECTED, amount=7777, award=AwardState.ACTIVE,
               country="DE")
    w.proposal(2030, ProposalState.REJECTED, outcome=DecisionOutcome.REJECTED, unit=w.unit_inee, country="JP")
    w.proposal(2030, ProposalState.INELIGIBLE)
    w.proposal(2030, ProposalState.WITHDRAWN, unit=w.unit_inee)
    w.proposal(2029, ProposalState.FUNDED, outcome=DecisionOutcome.SELECTED, award=AwardState.CLOSED)
    w.url = reverse("call_figures", args=[2030])
    yield w
    cache.clear()


def publish(call, value=True):
    Call.objects.filter(pk=call.pk).update(figures_public=value)


def test_until_published_only_staff_see_a_preview(client, world):
    assert client.get(world.url).status_code == 404
    client.force_login(UserFactory())
    assert client.get(world.url).status_code == 404
    client.force_login(StaffFactory(is_superuser=False))
    response = client.get(world.url)
    assert response.status_code == 200 and "Preview: these figures are not public yet." in response.content.decode()
    assert cache.get(cache_key(world.calls[2030], "en")) is None  # a preview is never cached


def test_a_draft_call_has_no_figures_even_if_ticked(client, world):
    draft = world.calls[2032]
    Call.objects.filter(pk=draft.pk).update(state=CallState.DRAFT, figures_public=True)
    assert client.get(reverse("call_figures", args=[2032])).status_code == 404


def test_published_figures_give_counts_and_rates_never_an_amount(client, world):
    publish(world.calls[2030])
    response = client.get(world.url)
    assert response.status_code == 200
    html = response.content.decode()
    headline = response.context["figures"]
    # submitted 4 (the withdrawn one too), eligible 2, selected 1, funded 1, 25.0%, 50.0%.
    cells = [cell.strip() for cell in headline.split('id="figures-headline-table"')[1].split("</tbody>")[0]
             .split("<td class=\"num\">")[1:]]
    assert [cell.split("<")[0] for cell in cells] == ["4", "2", "1", "1", "25.0%", "50.0%"]
    assert "7,777" not in html and "7777" not in html and "€" not in headline
    assert "Germany: 1" in html and 'role="img"' in html
    assert "Preview" not in html
    detail = client.get(reverse("calls:detail", args=[2030])).content.decode()
    assert f'href="{world.url}"' in detail


def test_the_figures_are_cached_an_hour_per_language(client, world):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    publish(world.calls[2030])
    with CaptureQueriesContext(connection) as fresh:
        first = client.get(world.url).context["figures"]
    assert cache.get(cache_key(world.calls[2030], "en")) == first
    # A new proposal does not show until the hour is over, and the page costs three queries less meanwhile.
    world.proposal(2030, ProposalState.SUBMITTED)
    with CaptureQueriesContext(connection) as cached:
        assert client.get(world.url).context["figures"] == first
    assert len(fresh) - len(cached) == 3  # the three tables
    client.cookies["django_language"] = "fr"
    french = client.get(world.url, HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert f"20,0{NBSP}%" in french and "Taux de succès" in french  # its own cache: the new proposal counts
    assert cache.get(cache_key(world.calls[2030], "fr")) is not None


def test_the_call_s_page_does_not_link_to_unpublished_figures(client, world):
    assert reverse("call_figures", args=[2030]) not in client.get(reverse("calls:detail", args=[2030])).content.decode()


def test_staff_publish_the_figures_from_the_call_s_page(client, world):
    staff = StaffFactory()
    client.force_login(staff)
    page = client.get(reverse("admin:calls_call_change", args=[world.calls[2030].pk])).content.decode()
    assert 'name="figures_public"' in page
