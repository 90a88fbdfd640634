"""The officer's affinities: the best-matching reviewers on a proposal's page (scores, words, state; conflicted
reviewers listed, never offered), the compute button and the state polled on the assignments page."""

import re

import pytest
from django.test import override_settings
from django.urls import reverse
from django.utils import translation

from iea.audit.models import AuditEntry
from reviews.models import Affinity, Assignment, AssignmentState, Bid, Conflict, Panel
from tests.factories import StaffFactory

from .test_panel import NOW, World

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    world = World()
    world.p1 = world.proposal(abstract="Ocean acidification harms coral reefs.", keywords="ocean, acidification")
    world.marine = world.reviewer("Marine Mer")
    world.marine.keywords = "ocean acidification, coral"
    world.marine.save()
    world.hugo = world.reviewer("Hugo Histoire")
    world.hugo.keywords = "medieval law"
    world.hugo.save()
    return world


def _page(client, world, language="en"):
    client.cookies["django_language"] = language
    return client.get(reverse("panel:proposal", args=[world.panel.pk, world.p1.pk]),
                      HTTP_ACCEPT_LANGUAGE=language)


def _section(html: str) -> str:
    return html[html.index('id="best-matches"'):html.index('id="assignments-title"')]


def _store(world, reviewer, score, terms=("ocean",)):
    return Affinity.objects.create(panel=world.panel, proposal=world.p1, reviewer=reviewer, score=score,
                                   terms=list(terms))


def test_not_computed_yet_offers_to_compute_and_computing_shows_the_best_matches(
        client, world, django_capture_on_commit_callbacks):
    client.force_login(world.officer)
    section = _section(_page(client, world).content.decode())
    assert "Affinities not computed yet." in section
    assert reverse("panel:affinities_compute", args=[world.panel.pk]) in section

    with override_settings(CELERY_TASK_ALWAYS_EAGER=True), django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("panel:affinities_compute", args=[world.panel.pk]),
                               {"back": "proposal", "proposal": world.p1.pk})
    assert response.status_code == 302
    assert response["Location"].endswith(f"/proposals/{world.p1.pk}/#best-matches")
    assert AuditEntry.objects.filter(action="panel.affinity_request", actor=world.officer).count() == 1

    section = _section(_page(client, world).content.decode())
    assert "Marine Mer" in section
    assert "Hugo Histoire" not in section  # shares no word with it: not stored, not listed
    assert re.search(r"acidification", section)
    assert f'name="reviewer" value="{world.marine.pk}"' in section


def test_rows_show_score_words_and_state_and_a_conflicted_reviewer_is_never_offered(client, world):
    third = world.reviewer("Carla Conflict")
    fourth = world.reviewer("Dora Declined")
    Panel.objects.filter(pk=world.panel.pk).update(affinity_computed_at=NOW, affinity_stale=False)
    _store(world, world.marine, 812, ["océan", "acidification"])
    _store(world, third, 700)
    _store(world, fourth, 300)
    _store(world, world.hugo, 120)
    Conflict.objects.create(proposal=world.p1, reviewer=third, source="declared", cause="declared", created_at=NOW)
    Assignment.objects.create(panel=world.panel, proposal=world.p1, reviewer=fourth, state=AssignmentState.DECLINED,
                              due_at=NOW, created_at=NOW)
    Bid.objects.create(panel=world.panel, proposal=world.p1, reviewer=world.hugo, value="eager", updated_at=NOW)
    client.force_login(world.officer)

    section = _section(_page(client, world).content.decode())

    names = re.findall(r"<th scope=\"row\">([^<]+)<br>", section)
    assert names == ["Marine Mer", "Carla Conflict", "Dora Declined", "Hugo Histoire"]
    assert "81%" in section and "océan, acidification" in section
    assert "conflict of interest" in section and "Declined" in section and "bid: Eager" in section
    offered = re.findall(r'name="reviewer" value="(\d+)"', section)
    assert offered == [str(world.marine.pk), str(world.hugo.pk)]


def test_the_section_in_french(client, world):
    Panel.objects.filter(pk=world.panel.pk).update(affinity_computed_at=NOW, affinity_stale=True)
    _store(world, world.marine, 812, ["océan"])
    client.force_login(world.officer)
    with translation.override("fr"):
        section = _section(_page(client, world, "fr").content.decode())
    assert "Expert·es les plus proches" in section
    assert "81\u00a0%" in section
    assert "Affecter" in section


def test_assigning_from_the_best_matches_assigns_and_comes_back(client, world):
    Panel.objects.filter(pk=world.panel.pk).update(affinity_computed_at=NOW, affinity_stale=False)
    _store(world, world.marine, 812)
    client.force_login(world.officer)

    response = client.post(reverse("panel:assign", args=[world.panel.pk]),
                           {"back": "proposal", "proposal": world.p1.pk, "reviewer": world.marine.pk})

    assert response.status_code == 302
    assert Assignment.objects.filter(proposal=world.p1, reviewer=world.marine).count() == 1


def test_a_conflicted_reviewer_posted_by_hand_is_refused(client, world):
    Conflict.objects.create(proposal=world.p1, reviewer=world.marine, source="declared", cause="declared",
                            created_at=NOW)
    client.force_login(world.officer)
    client.post(reverse("panel:assign", args=[world.panel.pk]),
                {"back": "proposal", "proposal": world.p1.pk, "reviewer": world.marine.pk})
    assert not Assignment.objects.filter(proposal=world.p1, reviewer=world.marine).exists()


def test_only_the_panels_officers_and_staff_see_or_compute(client, world):
    other = World(call=world.call)
    outsiders = [other.officer, world.marine.user, world.pi]
    compute = reverse("panel:affinities_compute", args=[world.panel.pk])
    for user in outsiders:
        client.force_login(user)
        assert client.post(compute).status_code == 404
        assert client.get(reverse("panel:affinity_state", args=[world.panel.pk]),
                          HTTP_HX_REQUEST="true").status_code == 404
    assert not AuditEntry.objects.filter(action="panel.affinity_request").exists()
    staff = StaffFactory()
    for user in (world.officer, staff):
        client.force_login(user)
        assert _page(client, world).status_code == 200
    client.force_login(staff)
    assert client.post(compute).status_code == 302
    assert AuditEntry.objects.filter(action="panel.affinity_request", actor=staff).count() == 1


def test_the_assignments_page_shows_the_state_and_polls_while_under_way(client, world):
    client.force_login(world.officer)
    url = reverse("panel:assignments", args=[world.panel.pk])
    html = client.get(url).content.decode()
    assert "Not computed yet." in html and "hx-trigger" not in html[html.index('id="affinity"'):][:400]

    client.post(reverse("panel:affinities_compute", args=[world.panel.pk]))  # no worker: stays under way
    html = client.get(url).content.decode()
    card = html[html.index('id="affinity"') - 60:]
    assert "Being computed in the background" in card
    assert 'hx-trigger="every 2s"' in card[:600]
    polled = client.get(reverse("panel:affinity_state", args=[world.panel.pk]), HTTP_HX_REQUEST="true")
    assert "Being computed in the background" in polled.content.decode()
    second = client.post(reverse("panel:affinities_compute", args=[world.panel.pk]), follow=True)
    assert "already being computed" in second.content.decode()

    Panel.objects.filter(pk=world.panel.pk).update(affinity_computed_at=NOW.replace(year=NOW.year + 1))
    _store(world, world.marine, 500)
    polled = client.get(reverse("panel:affinity_state", args=[world.panel.pk]), HTTP_HX_REQUEST="true")
    assert "1 proposal matches reviewers of the pool" in polled.content.decode()
    assert "hx-trigger" not in polled.content.decode()


def test_the_best_matches_cost_the_same_queries_at_two_sizes(client, world, queries):
    Panel.objects.filter(pk=world.panel.pk).update(affinity_computed_at=NOW, affinity_stale=False)
    client.force_login(world.officer)
    names = iter(range(100))

    def more_matches(n):
        for _ in range(n):
            reviewer = world.reviewer(f"Reviewer {next(names)}")
            _store(world, reviewer, 100 + reviewer.pk, ["ocean", "coral"])
            Assignment.objects.create(panel=world.panel, proposal=world.p1, reviewer=reviewer,
                                      state=AssignmentState.INVITED, due_at=NOW, created_at=NOW)
            Bid.objects.create(panel=world.panel, proposal=world.p1, reviewer=reviewer, value="willing",
                               updated_at=NOW)

    # +2 on the page since: who bid what, the dismissed co-author matches (#20).
    assert queries.at_sizes(more_matches, lambda: _page(client, world), sizes=(1, 4)) == (24, 24)  # #21: +2 the conversations


def test_stored_matches_cost_the_page_no_extra_query(client, world, queries):
    client.force_login(world.officer)
    without = queries(lambda: _page(client, world))
    _store(world, world.marine, 500)
    Panel.objects.filter(pk=world.panel.pk).update(affinity_computed_at=NOW)
    assert queries(lambda: _page(client, world)) == without


