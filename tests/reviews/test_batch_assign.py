"""One reviewer for several proposals at once: ``assignments_create_many`` (the rules of ``assignment_create``
for each pair, one transaction, all or nothing, an audit entry and an invitation each) and the officer's
assignments page: ticks, a confirmation that lists each pair (refused with the conflict's cause) and the
reviewer's load, nothing written before *apply*, and who may reach it."""

import html
import re

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from iea.audit.models import AuditEntry
from proposals.models import Proposal, ProposalState
from reviews.domain.assignment import assignments_create_many
from reviews.models import Assignment, AssignmentState, Conflict, Reviewer
from tests.factories import StaffFactory
from tests.proposals import test_concurrency as concurrency

from .test_panel import World

pytestmark = pytest.mark.django_db

sqlite_file_copy = concurrency.sqlite_file_copy


@pytest.fixture
def world():
    """Three eligible proposals of the PI's unit, one in review, a reviewer Alice (no conflict) and a colleague
    of the PI's unit (a conflict on each)."""
    world = World()
    world.p1, world.p2, world.p3 = world.proposals(3, state=ProposalState.ELIGIBLE)
    world.draft = world.proposal(state=ProposalState.DRAFT)
    world.a = world.reviewer("Alice Ames")
    world.colleague = world.reviewer("Carl Colleague")
    Reviewer.objects.filter(pk=world.colleague.pk).update(unit=world.unit)
    return world


def writes():
    return (list(Assignment.objects.order_by("pk").values_list("proposal_id", "reviewer_id", "state")),
            list(Proposal.objects.order_by("pk").values_list("pk", "state")), AuditEntry.objects.count())


# The domain ----------------------------------------------------------------------------------------------------


def test_every_pair_is_assigned_audited_and_started(world):
    made = assignments_create_many(panel_id=world.panel.pk, reviewer_id=world.a.pk, user=world.officer,
                                   proposal_ids=[world.p2.pk, world.p1.pk], now=timezone.now())
    assert sorted((a.proposal_id, a.reviewer_id) for a in made) == sorted([(world.p1.pk, world.a.pk),
                                                                         (world.p2.pk, world.a.pk)])
    assert [Proposal.objects.get(pk=p.pk).state for p in (world.p1, world.p2, world.p3)] == [
        ProposalState.IN_REVIEW, ProposalState.IN_REVIEW, ProposalState.ELIGIBLE]
    assert AuditEntry.objects.filter(action="review.assign").count() == 2
    assert AuditEntry.objects.filter(action="proposal.review_start").count() == 2


def test_one_refused_pair_and_none_is_assigned_but_the_conflicts_found_are_kept(world):
    before = list(Assignment.objects.values_list("pk", flat=True))
    with pytest.raises(ValidationError, match="cannot review this proposal"):
        assignments_create_many(panel_id=world.panel.pk, reviewer_id=world.colleague.pk, user=world.officer,
                                proposal_ids=[world.p1.pk, world.p2.pk], now=timezone.now())
    assert list(Assignment.objects.values_list("pk", flat=True)) == before
    assert sorted(Conflict.objects.values_list("proposal_id", "reviewer_id")) == sorted(
        [(world.p1.pk, world.colleague.pk), (world.p2.pk, world.colleague.pk)])


@pytest.mark.parametrize(("which", "match"), [("draft", "Only eligible proposals go to review"),
                                              ("other", "not evaluated by this panel"),
                                              ("twice", "already asked")])
def test_the_rules_of_one_assignment_hold_for_each_pair(world, which, match):
    now = timezone.now()
    if which == "twice":
        assignments_create_many(panel_id=world.panel.pk, reviewer_id=world.a.pk, user=world.officer,
                                proposal_ids=[world.p1.pk], now=now)
    extra = {"draft": world.draft, "other": World().proposal(state=ProposalState.ELIGIBLE), "twice": world.p1}[which]
    before = writes()
    with pytest.raises(ValidationError, match=match):
        assignments_create_many(panel_id=world.panel.pk, reviewer_id=world.a.pk, user=world.officer,
                                proposal_ids=[world.p2.pk, extra.pk], now=now)
    assert writes() == before


def test_a_reviewer_outside_the_active_pool_is_refused(world):
    Reviewer.objects.filter(pk=world.a.pk).update(active=False)
    with pytest.raises(ValidationError, match="active pool"):
        assignments_create_many(panel_id=world.panel.pk, reviewer_id=world.a.pk, user=world.officer,
                                proposal_ids=[world.p1.pk], now=timezone.now())


def two_batches(world, database=None):
    now = timezone.now()
    return concurrency.run_together(2, lambda: len(assignments_create_many(
        panel_id=world.panel.pk, reviewer_id=world.a.pk, user=world.officer,
        proposal_ids=[world.p1.pk, world.p2.pk], now=now)), database=database)


def assert_assigned_once(results, errors):
    assert results == [2] and len(errors) == 1
    assert "already asked" in str(errors[0])
    assert Assignment.objects.count() == 2


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_batches_at_once_assign_each_pair_once_on_postgresql(require_postgres, world):
    assert_assigned_once(*two_batches(world))


@pytest.mark.sqlite
@pytest.mark.django_db(transaction=True)
def test_two_batches_at_once_assign_each_pair_once_on_sqlite(sqlite_file_copy, world):
    path, copy = sqlite_file_copy
    copy()
    results, errors = two_batches(world, database=path)
    with concurrency._using(concurrency._file_connection(path)):
        assert_assigned_once(results, errors)


# The page --------------------------------------------------------------------------------------------------------


def url(world) -> str:
    return reverse("panel:assign_many", args=[world.panel.pk])


def post(client, world, reviewer, proposals, **data):
    return client.post(url(world), {"many-reviewer": reviewer.pk, "many-proposals": [p.pk for p in proposals], **data})


def rows(response, table_id="action-objects") -> list[list[str]]:
    table = response.content.decode().split(f'id="{table_id}"')[1].split("</table>")[0]
    return [[html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", cell)).strip())
             for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]
            for row in re.findall(r"<tr[^>]*>(.*?)</tr>", table.split("<tbody>")[-1], re.S)]


@pytest.fixture
def officer(client, world):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    client.force_login(world.officer)
    return client


def test_the_assignments_page_ticks_tie_to_the_batch_form(officer, world):
    content = officer.get(reverse("panel:assignments", args=[world.panel.pk])).content.decode()
    assert f'action="{url(world)}" class="form card" id="assign-many"' in content
    assert (f'<input type="checkbox" name="many-proposals" value="{world.p1.pk}" form="assign-many" '
            f'aria-label="Tick {world.p1.reference}">') in content


def test_the_confirmation_lists_each_pair_and_the_load_and_writes_nothing(officer, world):
    before = writes()
    page = post(officer, world, world.a, [world.p1, world.p2])
    assert page.status_code == 200
    assert rows(page) == [[f"{world.p1.reference} P1", "invited"], [f"{world.p2.reference} P2", "invited"]]
    assert rows(page, "action-totals") == [["Open reviews of the reviewer in this panel now", "0"],
                                           ["Open reviews of the reviewer in this panel after", "2"]]
    assert writes() == before and Conflict.objects.count() == 0


def test_a_conflicted_pair_is_listed_with_its_cause_and_not_applied(officer, world):
    page = post(officer, world, world.colleague, [world.p1])
    assert rows(page) == [[f"{world.p1.reference} P1",
                           "refused: Carl Colleague cannot review this proposal: The reviewer belongs to the PI's unit."]]
    assert "Assign 1 proposal" not in page.content.decode()
    response = post(officer, world, world.colleague, [world.p1], apply="1")
    assert response.status_code == 302
    assert not Assignment.objects.exists()


def test_confirming_assigns_exactly_the_pairs_not_refused(officer, world):
    conflicted = world.p3
    Conflict.objects.create(proposal=conflicted, reviewer=world.a, source="officer", cause="officer",
                            created_at=timezone.now())
    page = post(officer, world, world.a, [world.p1, world.p2, conflicted])
    assert [row[1].startswith("refused") for row in rows(page)] == [False, False, True]
    response = post(officer, world, world.a, [world.p1, world.p2, conflicted], apply="1", **{"many-due_on": "2030-01-31"})
    assert (response.status_code, response["Location"]) == (302, reverse("panel:assignments", args=[world.panel.pk]))
    made = Assignment.objects.order_by("proposal_id")
    assert [(a.proposal_id, a.reviewer_id, a.state, a.created_by_id) for a in made] == [
        (world.p1.pk, world.a.pk, AssignmentState.INVITED, world.officer.pk),
        (world.p2.pk, world.a.pk, AssignmentState.INVITED, world.officer.pk)]
    assert {timezone.localtime(a.due_at).date().isoformat() for a in made} == {"2030-01-31"}
    assert AuditEntry.objects.filter(action="review.assign", actor=world.officer).count() == 2


def test_nothing_ticked_goes_back_with_the_reason(officer, world):
    response = officer.post(url(world), {"many-reviewer": world.a.pk}, follow=True)
    assert "Tick the proposals to assign first." in response.content.decode()


def test_the_confirmation_query_count_does_not_grow(officer, world, queries):
    ticked = []

    def grow(n):
        ticked.extend(world.proposals(n, state=ProposalState.ELIGIBLE))

    # 13 before #20; +1 the reviewer's publications (co-authors); +2 the reviewer's maximum and absences (warnings).
    assert queries.at_sizes(grow, lambda: post(officer, world, world.a, ticked)) == (16, 16)


def test_who_may_reach_the_confirmation(client, world):
    before = writes()
    assert post(client, world, world.a, [world.p1])["Location"].startswith(reverse("account_login"))
    for user in (World().officer, world.a.user, world.pi):
        client.force_login(user)
        for data in ({}, {"apply": "1"}):
            assert post(client, world, world.a, [world.p1], **data).status_code == 404
    assert writes() == before
    client.force_login(StaffFactory())
    assert post(client, world, world.a, [world.p1]).status_code == 200
    client.force_login(world.officer)
    assert post(client, world, world.a, [world.p1]).status_code == 200


def test_the_confirmation_in_french_with_a_long_title_and_no_acronym(client, world):
    untitled = world.proposal(state=ProposalState.ELIGIBLE)
    Proposal.objects.filter(pk=untitled.pk).update(acronym="", title=("Étude " * 80)[:250])  # the longest title
    untitled.refresh_from_db()
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "fr"
    client.force_login(world.officer)
    page = post(client, world, world.colleague, [world.p1, untitled])
    assert [row[0] for row in rows(page)] == [f"{world.p1.reference} P1", f"{untitled.reference} {untitled.title}"]
    assert [row[1].split(" : ")[0] for row in rows(page)] == ["refusé", "refusé"]
    content = html.unescape(page.content.decode())
    assert "Demander à Carl Colleague d'évaluer ces propositions" in content
    assert "2 propositions sont refusées" in content
    assert "Affecter" not in content.split('id="action-totals"')[1]
