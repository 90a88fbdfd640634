"""The officers' statistics (/panels/statistics/): the tables of the back office's page for the institutes of the
panels they run, never another institute's proposals nor those they are in conflict with; no link to the back
office's lists; the same queries at any size."""

import io
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from funding.models import AwardState
from iea.site.backoffice.statistics import StatsScope, statistics
from proposals.models import ProposalState
from reviews.models import Conflict, Panel, Reviewer
from reviews.models import DecisionOutcome as Outcome
from tests.backoffice.test_statistics import World
from tests.factories import StaffFactory, UserFactory, activate_totp

pytestmark = pytest.mark.django_db

URL = "/panels/statistics/"


@pytest.fixture
def world(settings):
    settings.LANGUAGE_CODE = "en"
    w = World()
    w.mine = [
        w.proposal(2030, ProposalState.FUNDED, unit=w.unit_inee, outcome=Outcome.SELECTED, award=AwardState.ACTIVE),
        w.proposal(2030, ProposalState.REJECTED, unit=w.unit_inee, outcome=Outcome.REJECTED, country="JP"),
        w.proposal(2029, ProposalState.INELIGIBLE, evaluating=w.inee),  # an INSU unit, evaluated by INEE
    ]
    w.conflicted = w.proposal(2030, ProposalState.RESERVE, unit=w.unit_inee, outcome=Outcome.RESERVE, country="DE")
    w.theirs = w.proposal(2030, ProposalState.FUNDED, outcome=Outcome.SELECTED, award=AwardState.ACTIVE)  # INSU
    w.officer = UserFactory()
    activate_totp(w.officer)
    Panel.objects.create(call=w.calls[2030], institute=w.inee).officers.add(w.officer)
    reviewer = Reviewer.objects.create(user=w.officer, institute=w.inee)
    Conflict.objects.create(proposal=w.conflicted, reviewer=reviewer, source="declared", cause="colleague",
                            created_at=timezone.now())
    return w


def page(client, **params):
    response = client.get(URL, params)
    assert response.status_code == 200
    return response.context, response.content.decode()


def years(context):
    return {row[0].text: [cell.value for cell in row[1:5]] for row in context["tables"][0].rows}


def test_only_officers_and_staff_reach_it(client, world):
    response = client.get(URL)
    assert response.status_code == 302 and response["Location"].startswith(reverse("account_login"))
    pi = world.mine[0].pi
    other_reviewer = UserFactory()
    activate_totp(other_reviewer)
    Reviewer.objects.create(user=other_reviewer, institute=world.inee)
    for user in (pi, other_reviewer):
        client.force_login(user)
        assert client.get(URL).status_code == 404
        assert client.get(URL, {"format": "xlsx"}).status_code == 404
    client.force_login(StaffFactory())
    context, _html = page(client)
    assert [i.code for i in context["institutes"]] == ["INEE"]  # staff: the institutes that have a panel


def test_an_officer_sees_their_institute_only_and_never_a_proposal_they_are_in_conflict_with(client, world):
    client.force_login(world.officer)
    context, html = page(client)
    # (submitted, eligible, selected, funded) per call: INEE's proposals, not the conflicted reserve, not INSU's.
    assert years(context) == {"2029": [1, 0, 0, 0], "2030": [2, 2, 1, 1], "2031": [0, 0, 0, 0],
                              "2032": [0, 0, 0, 0]}
    expected = statistics(StatsScope(institute_ids=(world.inee.pk,), officer_id=world.officer.pk),
                          list(world.calls.values()))
    assert [row.submitted for row in expected.years] == [1, 2, 0, 0]
    assert [row[0].text for row in context["tables"][1].rows] == ["INEE"]
    # The conflicted proposal's partner country is not in the table (the map names every country).
    assert [row[0].text for row in context["tables"][3].rows] == ["Brazil", "Japan"]
    assert not re.search(r'href="/admin/proposals/', html)  # the lists behind the counts are the back office's
    assert "(INEE)" in html
    assert 'name="institute"' not in html  # one institute: nothing to choose


def test_an_officer_cannot_ask_for_another_institute(client, world):
    client.force_login(world.officer)
    context, _html = page(client, institute=world.insu.pk)
    assert [row[0].text for row in context["tables"][1].rows] == ["INEE"]


def test_an_officer_of_two_institutes_chooses_one_or_both(client, world):
    Panel.objects.create(call=world.calls[2029], institute=world.insu).officers.add(world.officer)
    client.force_login(world.officer)
    context, html = page(client)
    assert [row[0].text for row in context["tables"][1].rows] == ["INEE", "INSU"]
    assert 'name="institute"' in html and "All your institutes" in html
    context, _html = page(client, institute=world.insu.pk)
    assert [row[0].text for row in context["tables"][1].rows] == ["INSU"]


def test_the_officer_s_workbook_holds_the_same_figures(client, world):
    from openpyxl import load_workbook

    client.force_login(world.officer)
    response = client.get(URL, {"format": "xlsx", "call": "2030"})
    assert response.status_code == 200
    rows = list(load_workbook(io.BytesIO(response.content))["Proposals by call"].iter_rows(values_only=True))
    assert rows[1][:5] == ("2030", 2, 2, 1, 1)


def test_the_panels_list_leads_to_it(client, world):
    client.force_login(world.officer)
    assert f'href="{URL}"' in client.get(reverse("panel:list")).content.decode()


def test_the_page_costs_the_same_queries_for_few_and_many_proposals(client, world, queries):
    client.force_login(world.officer)

    def grow(size):
        for n in range(size):
            world.proposal(2030, ProposalState.ELIGIBLE, unit=world.unit_inee, country=["FR", "US"][n % 2],
                           early=(True, n % 2 == 0), outcome=Outcome.SELECTED, award=AwardState.ACTIVE)

    small, large = queries.at_sizes(grow, lambda: client.get(URL), sizes=(1, 5))
    assert small == large == 12
