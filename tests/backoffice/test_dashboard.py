"""The back office's home: the dashboard of a call. Each figure equals a recomputation over plain objects and
the number of rows of the list its link opens; its query count does not grow with the call."""

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from calls.models import CallState
from funding.models import AwardState, ReportState
from iea.notifications.models import NotificationState
from proposals.models import Proposal, ProposalState
from reviews.models import Decision, DecisionOutcome
from tests.factories import CallFactory, InstituteFactory, ProposalFactory, StaffFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def english(client, settings):
    settings.LANGUAGE_CODE = "en"
    client.force_login(StaffFactory())
    return client


def proposals_in(call, states, institute=None):
    made = []
    for state in states:
        proposal = ProposalFactory(call=call, complete=True, evaluating_institute=institute)
        Proposal.objects.filter(pk=proposal.pk).update(state=state)
        made.append(proposal)
    return made


def dashboard_of(client, **params):
    response = client.get(reverse("admin:index"), params)
    assert response.status_code == 200
    return response.context["dashboard"], response.content.decode()


def changelist_count(client, url) -> int:
    response = client.get(url)
    assert response.status_code == 200, url
    return response.context["cl"].result_count


def test_the_pipeline_counts_each_institute_and_state_and_links_to_the_same_rows(english):
    call = CallFactory(year=2031, state=CallState.IN_REVIEW)
    insu, inee = InstituteFactory(code="INSU"), InstituteFactory(code="INEE")
    proposals_in(call, ["draft", "submitted", "eligible", "eligible", "in_review", "withdrawn"], insu)
    proposals_in(call, ["ineligible", "selected", "reserve", "rejected", "funded"], inee)
    proposals_in(CallFactory(year=2030, state=CallState.DECIDED), ["funded", "rejected"], insu)  # another call

    dashboard, html = dashboard_of(english)
    assert dashboard.call == call  # in review: the directorate's current call
    expected = {}
    for proposal in Proposal.objects.filter(call=call).select_related("unit__main_institute", "evaluating_institute"):
        key = (proposal.institute.code, proposal.state)
        expected[key] = expected.get(key, 0) + 1
    found = {}
    for row in dashboard.rows:
        for (state, _label), cell in zip(dashboard.states, row.cells, strict=True):
            if cell.value:
                found[(row.institute.code, state)] = cell.value
                assert changelist_count(english, cell.url) == cell.value
        assert row.total.value == sum(n for (code, _s), n in expected.items() if code == row.institute.code)
        assert changelist_count(english, row.total.url) == row.total.value
    assert found == expected
    assert [row.institute.code for row in dashboard.rows] == ["INEE", "INSU"]
    for (state, _label), cell in zip(dashboard.states, dashboard.totals, strict=True):
        assert cell.value == sum(n for (_code, s), n in expected.items() if s == state)
        if cell.value:
            assert changelist_count(english, cell.url) == cell.value
    assert dashboard.total.value == 11 == changelist_count(english, dashboard.total.url)
    assert "Dashboard of IEA 2031" in html and 'href="?call=2030"' in html

    other, _ = dashboard_of(english, call=2030)
    assert (other.call.year, other.total.value) == (2030, 2)


def test_the_budget_and_what_waits_for_the_directorate(english, staff):
    from funding.models import Award, Tranche
    from tests.funding.factories import award_factory

    call = CallFactory(year=2031, state=CallState.DECIDED, total_envelope=Decimal("100000"))
    active = award_factory(call=call, amount=Decimal("12000"), staff=staff)
    cancelled = award_factory(call=call, amount=Decimal("11000"), staff=staff)
    Award.objects.filter(pk=cancelled.pk).update(state=AwardState.CANCELLED)
    awaiting = award_factory(call=call, amount=Decimal("10000"), staff=staff, accepted=False)
    [rejected] = proposals_in(call, ["rejected"])
    Decision.objects.create(proposal=rejected, outcome=DecisionOutcome.REJECTED, decided_at=timezone.now(),
                            decided_by=staff)
    first = active.tranches.get(number=1)
    Tranche.objects.filter(pk=first.pk).update(state="released")
    active.reports.filter(period="year1").update(state=ReportState.COSIGNED)

    dashboard, html = dashboard_of(english, call=2031)
    # The cancelled award's amount went back to the envelope; the one awaiting its answer still counts.
    assert dashboard.committed.value == Decimal("22000.00")
    assert dashboard.left == Decimal("78000.00")
    assert dashboard.released.value == first.amount
    assert changelist_count(english, dashboard.released.url) == 1
    assert dashboard.reports_to_approve.value == 1 == changelist_count(english, dashboard.reports_to_approve.url)
    assert dashboard.awards_awaiting.value == 1 == changelist_count(english, dashboard.awards_awaiting.url)
    assert awaiting.state == AwardState.AWAITING
    assert dashboard.committed.url == reverse("admin:reviews_decisions", args=[call.pk])
    assert "22,000" in html or "22 000" in html


def test_mails_needing_attention_are_counted_as_the_notifications_filter_lists_them(english, draft):
    from django.contrib.contenttypes.models import ContentType

    from iea.notifications.models import Notification

    long_ago = timezone.now() - dt.timedelta(hours=2)
    for state in (NotificationState.FAILED, NotificationState.PENDING, NotificationState.SENT):
        Notification.objects.create(kind="withdrawn", content_type=ContentType.objects.get_for_model(draft),
                                    object_id=draft.pk, email="x@example.org", occurrence=state, due_at=long_ago,
                                    created_at=long_ago, state=state)
    dashboard, _ = dashboard_of(english, call=draft.call.year)
    assert (dashboard.mails_failed.value, dashboard.mails_late.value) == (1, 1)
    assert changelist_count(english, dashboard.mails_failed.url) == 1
    assert changelist_count(english, dashboard.mails_late.url) == 1


def test_each_panel_says_what_is_short_overdue_and_waiting_as_its_lists_show(english, staff):
    from reviews.models import Panel, PanelRecommendation, Review, ReviewState
    from tests.reviews.factories import AssignmentFactory, eligible_proposal

    now = timezone.now()
    short = eligible_proposal()
    call = short.call
    Proposal.objects.filter(pk=short.pk).update(evaluating_institute=short.unit.main_institute)
    panel = Panel.objects.create(call=call, institute=short.unit.main_institute, reviews_per_proposal=1)
    late = eligible_proposal(call=call, unit=short.unit)
    AssignmentFactory(proposal=late, panel=panel, due_at=now - dt.timedelta(days=2))
    done = eligible_proposal(call=call, unit=short.unit)
    assignment = AssignmentFactory(proposal=done, panel=panel, due_at=now - dt.timedelta(days=2))
    Review.objects.create(assignment=assignment, proposal=done, reviewer=assignment.reviewer,
                          state=ReviewState.SUBMITTED, created_at=now, updated_at=now, submitted_at=now)
    Proposal.objects.filter(pk=done.pk).update(state=ProposalState.IN_REVIEW)
    recommended = eligible_proposal(call=call, unit=short.unit)
    assignment = AssignmentFactory(proposal=recommended, panel=panel, due_at=now + dt.timedelta(days=2))
    Review.objects.create(assignment=assignment, proposal=recommended, reviewer=assignment.reviewer,
                          state=ReviewState.SUBMITTED, created_at=now, updated_at=now, submitted_at=now)
    Proposal.objects.filter(pk=recommended.pk).update(state=ProposalState.IN_REVIEW)
    PanelRecommendation.objects.create(proposal=recommended, panel=panel, recommendation="fund", updated_at=now)
    empty = Panel.objects.create(call=call, institute=InstituteFactory(code="ZZZ"), reviews_per_proposal=2)
    call.state = CallState.IN_REVIEW
    call.save(update_fields=["state"])

    dashboard, html = dashboard_of(english, call=call.year)
    rows = {row.panel: row for row in dashboard.panels}
    assert set(rows) == {panel, empty}
    mine = rows[panel]
    # Recomputed by hand: one proposal has no reviewer, one review is late, one reviewed proposal waits.
    assert (mine.short.value, mine.overdue.value, mine.to_recommend.value) == (1, 1, 1)
    assert changelist_count(english, mine.overdue.url) == 1
    assert english.get(mine.short.url).status_code == 200
    assert english.get(mine.to_recommend.url).status_code == 200
    assert (rows[empty].short.value, rows[empty].overdue.value, rows[empty].to_recommend.value) == (0, 0, 0)
    assert rows[empty].short.url == rows[empty].overdue.url == ""
    assert "Review by panel" in html


def test_the_dashboard_costs_the_same_queries_for_a_small_and_a_large_call(english, queries):
    from reviews.models import Panel
    from tests.reviews.factories import AssignmentFactory

    call = CallFactory(year=2031, state=CallState.IN_REVIEW)
    institutes = [InstituteFactory(code=f"I{n}") for n in range(3)]
    panels = [Panel.objects.create(call=call, institute=institute) for institute in institutes]
    past = timezone.now() - dt.timedelta(days=1)

    def grow(size):
        for n in range(size):
            [proposal] = proposals_in(call, [ProposalState.values[n % len(ProposalState.values)]], institutes[n % 3])
            AssignmentFactory(proposal=proposal, panel=panels[n % 3], due_at=past)

    small, large = queries.at_sizes(grow, lambda: english.get(reverse("admin:index")), sizes=(2, 12))
    assert small == large == 22


def test_a_figure_links_only_to_a_list_the_person_may_open(client):
    """Staff may read every proposal (proposals.rules), so every staff member has the dashboard; a figure's
    link shows only when its list's admin lets this person view it."""
    from django.contrib.auth.models import Permission

    call = CallFactory(year=2031, state=CallState.OPEN)
    proposals_in(call, ["submitted"])
    clerk = StaffFactory(is_superuser=False)
    clerk.user_permissions.add(Permission.objects.get(codename="view_call"))
    client.force_login(clerk)
    dashboard, html = dashboard_of(client)
    assert dashboard.total.value == 1
    assert (dashboard.reports_to_approve.url, dashboard.committed.url, dashboard.mails_failed.url) == ("", "", "")
    assert not re.search(r'href="/admin/(funding|notifications)/', html)
