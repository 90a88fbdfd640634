"""The reviewers' statistics of a panel (reviews/statistics.py): each figure equals a recomputation over plain
objects — invitations and answers, late and overdue reviews, the mean weighted total given and the offset to the
other reviewers of the same proposals — with the officer's conflicts left out, in three queries at any size."""

import datetime as dt
from decimal import Decimal

import pytest

from calls.models import Criterion
from proposals.models import Proposal, ProposalState
from reviews.models import Assignment, AssignmentState, Conflict, Panel, Review, Reviewer, ReviewState, Score
from reviews.statistics import reviewer_statistics
from tests.factories import CallFactory, InstituteFactory, ProposalFactory, StaffFactory, UserFactory

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2031, 6, 1, 12, tzinfo=dt.UTC)
DUE = NOW - dt.timedelta(days=10)


class World:
    def __init__(self, year=2031):
        self.institute = InstituteFactory(code="INSU")
        self.call = CallFactory(year=year)
        self.panel = Panel.objects.create(call=self.call, institute=self.institute)
        Criterion.objects.filter(call=self.call, position__gt=2).delete()
        self.criteria = list(self.call.criteria.order_by("position"))
        Criterion.objects.filter(pk=self.criteria[0].pk).update(weight=Decimal(3))  # weights 3 and 1
        self.criteria = list(self.call.criteria.order_by("position"))
        self.proposals = [self.proposal() for _ in range(3)]
        self.ana, self.bob, self.cy, self.dee = (self.reviewer(name) for name in ("Ana", "Bob", "Cy", "Dee"))

    def proposal(self):
        proposal = ProposalFactory(call=self.call, complete=True, evaluating_institute=self.institute)
        Proposal.objects.filter(pk=proposal.pk).update(state=ProposalState.IN_REVIEW)
        return proposal

    def reviewer(self, name):
        return Reviewer.objects.create(user=UserFactory(full_name=name), institute=self.institute)

    def assign(self, proposal, reviewer, state=AssignmentState.ACCEPTED, *, scores=None, submitted_at=None,
               draft=False):
        assignment = Assignment.objects.create(panel=self.panel, proposal=proposal, reviewer=reviewer, state=state,
                                               due_at=DUE, created_at=NOW - dt.timedelta(days=40))
        if scores is not None or draft:
            review = Review.objects.create(
                assignment=assignment, proposal=proposal, reviewer=reviewer, created_at=NOW, updated_at=NOW,
                state=ReviewState.DRAFT if draft else ReviewState.SUBMITTED,
                submitted_at=None if draft else submitted_at or DUE - dt.timedelta(days=1))
            for criterion, value in zip(self.criteria, scores or [], strict=False):
                Score.objects.create(review=review, criterion=criterion, max_score=Decimal(5),
                                     score=None if value is None else Decimal(str(value)))
        return assignment


@pytest.fixture
def world():
    w = World()
    p1, p2, p3 = w.proposals
    w.assign(p1, w.ana, scores=[4, 2])  # weighted (3·4 + 2) / 4 = 3.5
    w.assign(p1, w.bob, scores=[2, 2], submitted_at=DUE + dt.timedelta(hours=1))  # 2, late
    w.assign(p1, w.cy, scores=[5, 1])  # 4
    w.assign(p2, w.ana, scores=[3, None])  # 3 (the unscored criterion is left out)
    w.assign(p2, w.bob, scores=[1, 5])  # 2
    w.assign(p3, w.ana, scores=[5, 5])  # 5: alone on p3, no offset measured
    w.assign(p3, w.bob, AssignmentState.DECLINED)
    w.assign(p3, w.cy, AssignmentState.WITHDRAWN)
    w.assign(p2, w.cy, AssignmentState.INVITED)  # overdue: due ten days ago
    w.assign(p3, w.dee, AssignmentState.ACCEPTED, draft=True)  # overdue too, its draft does not count
    return w


def by_name(rows):
    return {row.reviewer.user.full_name: row for row in rows}


def test_each_reviewer_s_figures_equal_a_recomputation(world):
    rows = by_name(reviewer_statistics(panel=world.panel, user=StaffFactory(), now=NOW))
    assert list(rows) == ["Ana", "Bob", "Cy", "Dee"]
    counts = {name: (r.invited, r.accepted, r.declined, r.conflicts, r.submitted, r.late, r.overdue)
              for name, r in rows.items()}
    assert counts == {"Ana": (3, 3, 0, 0, 3, 0, 0), "Bob": (3, 2, 1, 0, 2, 1, 0), "Cy": (3, 1, 0, 1, 1, 0, 1),
                      "Dee": (1, 1, 0, 0, 0, 0, 1)}
    # Weighted totals: p1 Ana 3.5, Bob 2, Cy 4; p2 Ana 3, Bob 2; p3 Ana 5.
    assert rows["Ana"].mean_total == (Decimal("3.5") + 3 + 5) / 3
    assert rows["Bob"].mean_total == Decimal(2)
    # Offsets: Ana on p1: 3.5 − (2 + 4)/2 = 0.5, on p2: 3 − 2 = 1 → 0.75; Bob: (2 − 3.75) and (2 − 3) → −1.375;
    # Cy on p1: 4 − (3.5 + 2)/2 = 1.25.
    assert (rows["Ana"].offset, rows["Ana"].compared) == (Decimal("0.75"), 2)
    assert (rows["Bob"].offset, rows["Bob"].compared) == (Decimal("-1.375"), 2)
    assert (rows["Cy"].offset, rows["Cy"].compared) == (Decimal("1.25"), 1)
    assert (rows["Dee"].mean_total, rows["Dee"].offset, rows["Dee"].compared) == (None, None, 0)


def test_a_review_in_conflict_does_not_count_and_an_officer_never_sees_their_conflicts(world):
    p1 = world.proposals[0]
    Conflict.objects.create(proposal=p1, reviewer=world.cy, source="detected", cause="same unit", created_at=NOW)
    rows = by_name(reviewer_statistics(panel=world.panel, user=StaffFactory(), now=NOW))
    assert rows["Cy"].mean_total is None and rows["Cy"].submitted == 1  # submitted, but not counted
    assert rows["Ana"].offset == (Decimal("3.5") - 2 + 1) / 2  # p1 now compared with Bob only
    officer = UserFactory()
    Conflict.objects.create(proposal=p1, reviewer=Reviewer.objects.create(user=officer, institute=world.institute),
                            source="declared", cause="colleague", created_at=NOW)
    mine = by_name(reviewer_statistics(panel=world.panel, user=officer, now=NOW))
    assert (mine["Ana"].invited, mine["Ana"].offset, mine["Ana"].compared) == (2, Decimal(1), 1)
    assert mine["Bob"].late == 0


def test_three_queries_whatever_the_panel_s_size(world, queries):
    staff = StaffFactory()

    def grow(size):
        for _ in range(size):
            proposal = world.proposal()
            world.assign(proposal, world.ana, scores=[3, 3])
            world.assign(proposal, world.reviewer("Eve"), scores=[2, 4])

    assert queries.at_sizes(grow, lambda: reviewer_statistics(panel=world.panel, user=staff, now=NOW)) == (3, 3)


# The pages: the panel's officers (site) and staff (back office)

def officer_of(panel):
    from tests.factories import activate_totp

    user = UserFactory()
    activate_totp(user)
    panel.officers.add(user)
    return user


def test_the_panel_s_officers_and_staff_see_the_page_and_nobody_else(client, world, settings):
    settings.LANGUAGE_CODE = "en"
    from django.urls import reverse

    url = reverse("panel:reviewer_statistics", args=[world.panel.pk])
    response = client.get(url)
    assert response.status_code == 302 and response["Location"].startswith(reverse("account_login"))
    from tests.factories import activate_totp

    other = officer_of(Panel.objects.create(call=world.call, institute=InstituteFactory(code="INEE")))
    activate_totp(world.ana.user)
    for user in (other, world.ana.user, world.proposals[0].pi):
        client.force_login(user)
        assert client.get(url).status_code == 404
    for user in (officer_of(world.panel), StaffFactory(is_superuser=False)):
        client.force_login(user)
        response = client.get(url)
        assert response.status_code == 200
        html = response.content.decode()
        assert [row.reviewer.user.full_name for row in response.context["rows"]] == ["Ana", "Bob", "Cy", "Dee"]
        assert '<caption id="reviewers-caption">Reviewers</caption>' in html
        assert 'aria-current="page">Reviewers\' statistics</a>' in html
        assert "<circle" in html and "style=" not in response.context["chart"]


def test_the_page_in_french(client, world):
    from django.urls import reverse
    from django.utils import translation

    client.force_login(officer_of(world.panel))
    client.post(reverse("set_language"), {"language": "fr"})
    with translation.override("fr"):
        html = client.get(reverse("panel:reviewer_statistics", args=[world.panel.pk])).content.decode()
    assert "0,75" in html and "-1,38" in html and "Écart" in html


def test_the_back_office_page_shows_the_panel_asked_for(client, world, settings):
    settings.LANGUAGE_CODE = "en"
    from django.contrib.auth.models import Permission
    from django.urls import reverse

    url = reverse("admin:reviewer_statistics")
    client.force_login(UserFactory())
    assert client.get(url).status_code == 302
    clerk = StaffFactory(is_superuser=False)
    client.force_login(clerk)
    assert client.get(url).status_code == 403
    clerk.user_permissions.add(Permission.objects.get(codename="view_panel"))
    client.force_login(clerk)
    empty = Panel.objects.create(call=CallFactory(year=2032), institute=world.institute)
    response = client.get(url)
    assert response.status_code == 200 and response.context["panel"] == empty and response.context["rows"] == []
    response = client.get(url, {"panel": world.panel.pk})
    assert response.context["panel"] == world.panel
    assert [row.reviewer.user.full_name for row in response.context["rows"]] == ["Ana", "Bob", "Cy", "Dee"]
    assert reverse("panel:reviewer_statistics", args=[world.panel.pk]) in response.content.decode()
    home = client.get(reverse("admin:index")).content.decode()
    assert url in home


def test_the_pages_cost_the_same_queries_at_any_size(client, world, queries):
    from django.urls import reverse

    client.force_login(StaffFactory())

    def grow(size):
        for _ in range(size):
            proposal = world.proposal()
            world.assign(proposal, world.ana, scores=[3, 3])
            world.assign(proposal, world.reviewer("Eve"), scores=[2, 4])

    officer_page = reverse("panel:reviewer_statistics", args=[world.panel.pk])
    small, large = queries.at_sizes(grow, lambda: client.get(officer_page))
    assert small == large
    admin_page = f"{reverse('admin:reviewer_statistics')}?panel={world.panel.pk}"
    small, large = queries.at_sizes(grow, lambda: client.get(admin_page), sizes=(4, 6))
    assert small == large
