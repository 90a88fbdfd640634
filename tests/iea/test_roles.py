"""The roles registry (iea.roles): each app declares the expressions of the roles it gives, the core ORs them
in one query, and a role nobody declares is an error at start-up, never a silent "no role"."""

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from iea import roles as roles_module
from iea.roles import DECLARED, Roles, check_roles, user_roles
from tests.factories import InstituteFactory, UnitFactory, UserFactory, activate_totp
from tests.funding.factories import award_factory
from tests.reviews.factories import PanelFactory, ReviewerFactory

pytestmark = pytest.mark.django_db


def fresh(user):
    """The same person, without the roles cached on the object."""
    return type(user).objects.get(pk=user.pk)


def test_each_app_declares_its_roles():
    declared = {role: [f"{function.__module__}.{function.__name__}" for function in functions]
                for role, functions in roles_module.EXPRESSIONS.items()}
    assert declared == {
        "officer": ["calls.roles.institute_officer", "reviews.roles.panel_officer"],
        "reviewer": ["reviews.roles.active_reviewer"],
        "unit_manager": ["calls.roles.unit_manager"],
        "awardee": ["funding.roles.award_pi"],
    }
    assert check_roles() == []


def test_each_declared_role_is_answered_in_one_query(django_assert_num_queries):
    institute_officer, panel_officer, reviewer, retired, manager = (UserFactory() for _ in range(5))
    InstituteFactory().officers.add(institute_officer)
    PanelFactory().officers.add(panel_officer)
    ReviewerFactory(user=reviewer)
    ReviewerFactory(user=retired, active=False, mfa=False)
    UnitFactory().managers.add(manager)
    award = award_factory()
    activate_totp(award.proposal.pi)
    expected = {
        institute_officer: Roles(officer=True),
        panel_officer: Roles(officer=True),
        reviewer: Roles(reviewer=True, two_factor=True),
        retired: Roles(),
        manager: Roles(unit_manager=True),
        award.proposal.pi: Roles(awardee=True, two_factor=True),
    }
    for user, roles in expected.items():
        user = fresh(user)
        with django_assert_num_queries(1):
            assert (user_roles(user), user_roles(user)) == (roles, roles)


def test_a_role_no_app_declares_fails_loudly(monkeypatch):
    monkeypatch.setitem(roles_module.EXPRESSIONS, "awardee", [])
    assert [(error.id, error.msg) for error in check_roles()] == [
        ("roles.E001", "No app declares the role 'awardee' (@held_when in an app's roles.py)."),
        ("roles.E002", "funding.roles registered no role: import it from FundingConfig.ready()."),
    ]
    with pytest.raises(SystemCheckError, match="roles.E001"):
        call_command("check")
    with pytest.raises(ImproperlyConfigured, match="'awardee'"):
        user_roles(UserFactory())


def test_an_app_whose_roles_module_is_not_imported_fails_loudly(monkeypatch):
    """reviews.roles left out of ReviewsConfig.ready(): the officers of the institutes would still be officers,
    but the panels' would silently not be; the check names the module."""
    for role in DECLARED:
        monkeypatch.setitem(roles_module.EXPRESSIONS, role, [
            function for function in roles_module.EXPRESSIONS[role] if function.__module__ != "reviews.roles"])
    assert [(error.id, error.msg) for error in check_roles()] == [
        ("roles.E001", "No app declares the role 'reviewer' (@held_when in an app's roles.py)."),
        ("roles.E002", "reviews.roles registered no role: import it from ReviewsConfig.ready()."),
    ]


def test_an_unknown_role_is_refused():
    with pytest.raises(ValueError, match="Unknown role 'chair'"):
        roles_module.held_when("chair")


def test_the_query_is_compiled_once_and_answers_for_each_person(monkeypatch):
    reviewer, manager = ReviewerFactory().user, UserFactory()
    UnitFactory().managers.add(manager)
    user_roles(fresh(manager))  # compiled here, or by an earlier test
    compiled = []
    monkeypatch.setattr(roles_module, "_held", lambda role: compiled.append(role))

    assert (user_roles(fresh(reviewer)), user_roles(fresh(manager))) == (
        Roles(reviewer=True, two_factor=True), Roles(unit_manager=True))
    assert compiled == []


def test_an_expression_registered_later_is_asked(monkeypatch):
    from django.db.models import Exists, OuterRef

    from iea.accounts.models import User

    person = UserFactory(full_name="Zoé Awardee")
    assert user_roles(fresh(person)) == Roles()
    monkeypatch.setitem(roles_module.EXPRESSIONS, "awardee", [
        *roles_module.EXPRESSIONS["awardee"],
        lambda: Exists(User.objects.filter(pk=OuterRef("pk"), full_name__startswith="Zoé"))])

    assert user_roles(fresh(person)) == Roles(awardee=True)
