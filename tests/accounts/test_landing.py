"""After signing in, each person lands on their own work (iea.next_actions.landing_url), not on "My
proposals"; a ``next`` parameter still wins; someone with several roles lands on the most specific one."""

import pytest
from django.urls import reverse

from calls.models import Institute
from reviews.models import Panel, Reviewer
from tests.factories import (
    PASSWORD,
    CallFactory,
    InstituteFactory,
    StaffFactory,
    UnitFactory,
    UserFactory,
    totp_code,
)

pytestmark = pytest.mark.django_db


def make_officer(user):
    Panel.objects.create(call=CallFactory(), institute=InstituteFactory()).officers.add(user)
    return user


def make_reviewer(user):
    Reviewer.objects.create(user=user, institute=InstituteFactory())
    return user


def make_unit_manager(user):
    UnitFactory().managers.add(user)
    return user


def sign_in(client, user, *, next_url: str | None = None, code: bool = False) -> str:
    url = reverse("account_login") + (f"?next={next_url}" if next_url else "")
    response = client.post(url, {"login": user.email, "password": PASSWORD})
    assert response.status_code == 302
    if code:
        assert response["Location"] == reverse("mfa_authenticate")
        response = client.post(reverse("mfa_authenticate"), {"code": totp_code()})
        assert response.status_code == 302
    return response["Location"]


@pytest.mark.parametrize(("role", "landing"), [
    ("pi", "dashboard"),
    ("reviewer", "reviewer:assignments"),
    ("officer", "panel:list"),
    ("unit_manager", "funding:unit_awards"),
])
def test_each_role_lands_on_its_own_work(client, role, landing):
    user = UserFactory()
    {"pi": lambda u: u, "reviewer": make_reviewer, "officer": make_officer, "unit_manager": make_unit_manager}[role](user)
    assert sign_in(client, user) == reverse(landing)


def test_staff_land_on_the_back_office(client):
    assert sign_in(client, StaffFactory(), code=True) == reverse("admin:index")


def test_an_officer_of_an_institute_only_lands_on_the_panels(client):
    user = UserFactory()
    Institute.officers.through.objects.create(institute=InstituteFactory(), user=user)
    assert sign_in(client, user) == reverse("panel:list")


@pytest.mark.parametrize(("roles", "landing"), [
    (("reviewer", "unit_manager"), "reviewer:assignments"),
    (("officer", "reviewer", "unit_manager"), "panel:list"),
])
def test_several_roles_land_on_the_most_specific(client, roles, landing):
    user = UserFactory()
    for role in roles:
        {"reviewer": make_reviewer, "officer": make_officer, "unit_manager": make_unit_manager}[role](user)
    assert sign_in(client, user) == reverse(landing)


def test_staff_who_also_review_land_on_the_back_office(client):
    user = make_reviewer(make_officer(StaffFactory()))
    assert sign_in(client, user, code=True) == reverse("admin:index")


@pytest.mark.parametrize("role", ["reviewer", "officer", "unit_manager"])
def test_next_still_wins(client, role):
    user = UserFactory()
    {"reviewer": make_reviewer, "officer": make_officer, "unit_manager": make_unit_manager}[role](user)
    target = reverse("calls:list")
    assert sign_in(client, user, next_url=target) == target


def test_staff_next_wins_after_the_two_factor_step(client):
    target = reverse("dashboard")
    assert sign_in(client, StaffFactory(), next_url=target, code=True) == target
