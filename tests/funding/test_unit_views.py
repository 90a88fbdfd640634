"""The unit manager's pages: who gets in (the manager of the award's unit only; everyone else a 404,
staff included: staff manage awards in the admin), what the list and the award page show, and that the
list and the page take the same number of queries whatever their size."""

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from funding.domain.awards import tranche_confirm_receipt
from funding.domain.spending import spending_record
from funding.models import SpendingLine
from funding.views import unit as unit_views
from iea.audit.models import AuditEntry
from tests.factories import StaffFactory, UserFactory, activate_totp
from tests.reviews.factories import PanelFactory, ReviewerFactory

from .unit_factories import unit_award

pytestmark = pytest.mark.django_db


def spend(ua, amount, category="mobility", *, description="Train tickets", date=None):
    return spending_record(
        award_id=ua.award.pk, user=ua.manager, date=date or ua.award.start_date, category=category,
        amount=Decimal(amount), description=description, now=timezone.now(),
    )


@pytest.fixture
def ua():
    ua = unit_award()
    ua.release(1)
    return ua


def pages(ua):
    return {
        "list": reverse("funding:unit_awards"),
        "award": reverse("funding:unit_award", args=[ua.award.pk]),
    }


def actions(ua):
    return {
        "spending": (reverse("funding:spending_add", args=[ua.award.pk]), {
            "date": ua.award.start_date.isoformat(), "category": "mobility", "amount": "250", "description": "Train"}),
        "receipt": (reverse("funding:tranche_received", args=[ua.tranche(1).pk]), {}),
    }


def nothing_written(ua):
    tranche = ua.tranche(1)
    return (SpendingLine.objects.count(), tranche.received_at, AuditEntry.objects.filter(
        action__in=["spending.record", "tranche.receipt"]).count()) == (0, None, 0)


# --- who gets in --------------------------------------------------------------------------------------


def test_anonymous_is_sent_to_sign_in_and_writes_nothing(client, ua):
    for url in pages(ua).values():
        response = client.get(url)
        assert (response.status_code, response.url.split("?")[0]) == (302, reverse("account_login"))
    for url, data in actions(ua).values():
        response = client.post(url, data)
        assert (response.status_code, response.url.split("?")[0]) == (302, reverse("account_login"))
    assert nothing_written(ua)


def test_the_manager_of_the_awards_unit_gets_in(client, ua):
    client.force_login(ua.manager)
    assert {name: client.get(url).status_code for name, url in pages(ua).items()} == {"list": 200, "award": 200}


def _refused_everywhere(client, ua, user):
    client.force_login(user)
    award_page = client.get(pages(ua)["award"]).status_code
    posts = {name: client.post(url, data).status_code for name, (url, data) in actions(ua).items()}
    return award_page, posts


def test_the_manager_of_another_unit_gets_404_and_writes_nothing(client, ua):
    other = unit_award(staff=ua.staff)
    assert _refused_everywhere(client, ua, other.manager) == (404, {"spending": 404, "receipt": 404})
    assert nothing_written(ua)
    # Their list holds their own award only.
    response = client.get(pages(ua)["list"])
    assert [award.pk for award in response.context["awards"]] == [other.award.pk]


@pytest.mark.parametrize("who", ["pi", "reviewer", "staff", "officer", "nobody"])
def test_everyone_else_gets_404_and_writes_nothing(client, ua, who):
    """The PI and the officer have their own award pages; staff manage awards in the admin."""
    if who == "pi":
        user = ua.pi
    elif who == "reviewer":
        user = ReviewerFactory(institute=ua.award.proposal.institute).user
    elif who == "staff":
        user = StaffFactory()
    elif who == "officer":
        user = UserFactory()
        activate_totp(user)  # without it, any page is the two-factor set-up (iea.mfa)
        PanelFactory(call=ua.award.proposal.call, institute=ua.award.proposal.institute).officers.add(user)
    else:
        user = UserFactory()
    assert _refused_everywhere(client, ua, user) == (404, {"spending": 404, "receipt": 404})
    assert client.get(pages(ua)["list"]).status_code == 404
    assert nothing_written(ua)


def test_a_manager_who_is_also_staff_uses_the_unit_pages(client, ua):
    ua.unit.managers.add(ua.staff)
    client.force_login(ua.staff)
    assert client.get(pages(ua)["award"]).status_code == 200


def test_the_actions_take_post_only(client, ua):
    client.force_login(ua.manager)
    assert [client.get(url).status_code for url, _data in actions(ua).values()] == [405, 405]
    assert client.post(pages(ua)["award"]).status_code == 405
    assert nothing_written(ua)


def test_a_missing_award_or_tranche_is_404(client, ua):
    client.force_login(ua.manager)
    assert client.get(reverse("funding:unit_award", args=[ua.award.pk + 1000])).status_code == 404
    assert client.post(reverse("funding:tranche_received", args=[999999])).status_code == 404


# --- the list ---------------------------------------------------------------------------------------


def test_the_list_shows_each_award_with_its_tranches_and_spending(client, ua):
    spend(ua, "1500")
    spend(ua, "250.50", "meetings")
    tranche_confirm_receipt(tranche_id=ua.tranche(1).pk, user=ua.manager, now=timezone.now())
    second = unit_award(manager=ua.manager, staff=ua.staff, amount=Decimal(10000))
    spend(second, "10000.01", "other")
    client.force_login(ua.manager)
    response = client.get(pages(ua)["list"])
    rows = {
        award.pk: (award.spent, award.overspent, [(t.number, t.state, t.received_at is not None) for t in award.tranches.all()])
        for award in response.context["awards"]
    }
    assert rows == {
        ua.award.pk: (Decimal("1750.50"), False, [(1, "released", True), (2, "planned", False)]),
        second.award.pk: (Decimal("10000.01"), True, [(1, "planned", False), (2, "planned", False)]),
    }
    html = response.content.decode()
    assert ua.award.proposal.reference in html
    assert reverse("funding:unit_award", args=[second.award.pk]) in html
    assert ua.pi.get_full_name() in html
    assert "€1,750.50 / €12,000.00" in html
    assert "over the award" in html
    # Two units managed: the unit is shown on each row.
    assert response.context["several_units"] is True
    assert ua.unit.code in html


def test_a_manager_whose_unit_has_no_award_gets_an_empty_list(client):
    from tests.factories import UnitFactory

    manager = UserFactory()
    UnitFactory().managers.add(manager)
    client.force_login(manager)
    response = client.get(reverse("funding:unit_awards"))
    assert response.status_code == 200
    assert list(response.context["awards"]) == []
    assert "Your unit manages no award yet." in response.content.decode()


@pytest.fixture
def two_per_page(monkeypatch):
    monkeypatch.setattr(unit_views, "AWARDS_PER_PAGE", 2)


def test_the_list_pages_the_awards_newest_first_with_the_unit_column_on_every_page(client, two_per_page):
    manager, staff = UserFactory(), StaffFactory()
    now = timezone.now()
    oldest = unit_award(manager=manager, staff=staff, now=now - dt.timedelta(days=700))
    unit = oldest.unit
    newest = unit_award(manager=manager, staff=staff, now=now - dt.timedelta(days=100), unit=unit)
    middle = unit_award(manager=manager, staff=staff, now=now - dt.timedelta(days=400))  # another unit
    client.force_login(manager)

    def page(number):
        response = client.get(reverse("funding:unit_awards"), {"page": number})
        assert response.status_code == 200
        return response, [award.pk for award in response.context["awards"]]

    first, rows = page(1)
    assert rows == [newest.award.pk, middle.award.pk]
    html = first.content.decode()
    assert '<nav class="cluster" aria-label="Pages of the awards">' in html
    assert "Page 1 of 2" in html
    assert 'href="?page=2" rel="next"' in html
    second, rows = page(2)
    assert rows == [oldest.award.pk]
    # The last page shows one unit's award, yet the list spans two units: the column stays.
    assert second.context["several_units"] is True
    assert f"{unit.code} {unit.acronym}" in second.content.decode()
    assert page(5)[1] == [oldest.award.pk]
    assert page("last")[1] == [newest.award.pk, middle.award.pk]


def test_the_unit_column_is_left_out_when_every_award_is_of_one_unit(client, ua):
    unit_award(manager=ua.manager, staff=ua.staff, unit=ua.unit)
    client.force_login(ua.manager)
    response = client.get(reverse("funding:unit_awards"))
    assert (len(response.context["awards"]), response.context["several_units"]) == (2, False)


def test_the_list_takes_the_same_number_of_queries_for_one_and_for_two_pages(client, queries, two_per_page):
    manager, staff = UserFactory(), StaffFactory()

    def award(n):
        for index in range(n):
            ua = unit_award(manager=manager, staff=staff)
            ua.release(1)
            spend(ua, "100")
            spend(ua, "50", "field")
            if index % 2:
                tranche_confirm_receipt(tranche_id=ua.tranche(1).pk, user=manager, now=timezone.now())

    client.force_login(manager)
    hit = lambda: client.get(reverse("funding:unit_awards"))  # noqa: E731
    # The session, the user, their roles, the count, the page's awards, their tranches, the units of the
    # list, and the next actions (two).
    assert queries.at_sizes(award, hit, sizes=(1, 3)) == (9, 9)
    assert len(hit().context["awards"]) == 2
    assert queries(lambda: client.get(reverse("funding:unit_awards"), {"page": 2})) == 9


# --- the award page ------------------------------------------------------------------------------------


def test_the_award_page_offers_receipt_only_for_a_released_tranche_not_yet_received(client, ua):
    client.force_login(ua.manager)
    first, second = reverse("funding:tranche_received", args=[ua.tranche(1).pk]), reverse(
        "funding:tranche_received", args=[ua.tranche(2).pk])
    html = client.get(pages(ua)["award"]).content.decode()
    assert (first in html, second in html) == (True, False)
    assert "Confirm receipt of tranche 1" in html
    tranche_confirm_receipt(tranche_id=ua.tranche(1).pk, user=ua.manager, now=timezone.now())
    html = client.get(pages(ua)["award"]).content.decode()
    assert (first in html, second in html) == (False, False)
    assert f"by {ua.manager.get_full_name()}" in html


def test_the_award_page_lists_the_spending_with_totals_per_category(client, ua):
    ua.manager.full_name = "Gérard Gestionnaire"
    ua.manager.save(update_fields=["full_name"])
    spend(ua, "1200", description="Flight to São Paulo")
    spend(ua, "300", description="Hotel")
    spend(ua, "80", "field", description="Car hire")
    client.force_login(ua.manager)
    response = client.get(pages(ua)["award"])
    lines = [(line.category, line.amount, line.description) for line in response.context["lines"]]
    assert sorted(lines) == [("field", Decimal("80.00"), "Car hire"), ("mobility", Decimal("300.00"), "Hotel"),
                             ("mobility", Decimal("1200.00"), "Flight to São Paulo")]
    totals = [(row["label"], row["planned"], row["spent"], row["over"]) for row in response.context["categories"]]
    assert totals == [
        ("Mobility", Decimal("6000.00"), Decimal("1500.00"), False),
        ("Working meetings", Decimal("6000.00"), Decimal(0), False),
        ("Field missions", Decimal("0.00"), Decimal("80.00"), True),
        ("Other", Decimal("0.00"), Decimal(0), False),
    ]
    assert (response.context["spent_total"], response.context["left_total"]) == (Decimal("1580.00"), Decimal("10420.00"))
    html = response.content.decode()
    assert "Flight to São Paulo" in html
    assert "Gérard Gestionnaire" in html
    table = re.search(r'<table class="table" id="category-totals">.*?</table>', html, re.S).group(0)
    assert "€1,580.00" in table
    assert "over the plan" in table


def test_the_award_page_takes_the_same_number_of_queries_for_1_and_15_spending_lines(client, queries):
    ua = unit_award()
    ua.release(1)
    tranche_confirm_receipt(tranche_id=ua.tranche(1).pk, user=ua.manager, now=timezone.now())
    recorders = [ua.manager, UserFactory()]
    for recorder in recorders:
        ua.unit.managers.add(recorder)
    lines = iter(range(100))

    def spend_more(n):
        for _ in range(n):
            index = next(lines)
            spending_record(award_id=ua.award.pk, user=recorders[index % 2], date=ua.award.start_date,
                            category=["mobility", "field", "other"][index % 3], amount=Decimal(10 + index),
                            description=f"Expense {index}", now=timezone.now())

    client.force_login(ua.manager)
    hit = lambda: client.get(reverse("funding:unit_award", args=[ua.award.pk]))  # noqa: E731
    assert queries.at_sizes(spend_more, hit, sizes=(1, 15)) == (11, 11)  # + the amendments
    assert len(hit().context["lines"]) == 15
