"""What a signed-in person is, for navigation and for the permission predicates.

One query answers all roles, and whether the person has set up two-factor authentication (``iea.mfa``
asks it on every request); the result is cached on the user object for the request.

The core knows no app: each app declares, in ``<app>/roles.py`` (imported by its ``AppConfig.ready()``),
the ``Exists`` expressions by which a person holds a role it gives (``@held_when("officer")``: an
institute's officers in calls, a panel's in reviews). The query ORs the expressions of each role. A role
no app declares, or an app's ``roles.py`` left unimported, is an error of Django's system checks
(``roles.E001``, ``roles.E002``) and of ``user_roles`` itself, never a silent "no role".
"""

import functools
import operator
from collections.abc import Callable
from dataclasses import dataclass

import rules
from allauth.mfa.models import Authenticator
from django.apps import apps
from django.contrib.auth import get_user_model
from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.db import connections, router
from django.db.models import Exists, OuterRef
from django.utils.module_loading import module_has_submodule


@dataclass(frozen=True)
class Roles:
    staff: bool = False
    officer: bool = False
    reviewer: bool = False
    unit_manager: bool = False
    awardee: bool = False  # the PI of at least one award
    two_factor: bool = False  # a TOTP authenticator is set up (iea.mfa)

    @property
    def pi(self) -> bool:
        # Anyone who signs in may prepare a proposal; the unit check happens on the proposal.
        return True


# The roles the apps declare. ``staff`` is a flag of the account and ``two_factor`` the core's own question.
DECLARED = ("officer", "reviewer", "unit_manager", "awardee")

# A function giving an ``Exists`` over the person's ``OuterRef("pk")``: built at each query, so no expression
# is shared between two querysets.
RoleExpression = Callable[[], Exists]
EXPRESSIONS: dict[str, list[RoleExpression]] = {role: [] for role in DECLARED}


def held_when(role: str):
    """Register a function giving an ``Exists`` over the person's ``OuterRef("pk")``: the person holds
    ``role`` when any of the expressions registered for it holds."""
    if role not in EXPRESSIONS:
        raise ValueError(f"Unknown role {role!r}: the roles are {', '.join(DECLARED)}.")

    def register(function: RoleExpression) -> RoleExpression:
        if function not in EXPRESSIONS[role]:
            EXPRESSIONS[role].append(function)
        return function

    return register


@checks.register("roles")
def check_roles(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """Django's system check, registered as this module is imported (by the apps' ``roles.py`` and the rules,
    in ``ready()``): every role is declared by an app (E001), and every app's ``roles.py`` registered its
    expressions, which it does only once its ``ready()`` imports it (E002)."""
    errors = [checks.Error(f"No app declares the role {role!r} (@held_when in an app's roles.py).", id="roles.E001")
              for role, functions in EXPRESSIONS.items() if not functions]
    registered = {function.__module__ for functions in EXPRESSIONS.values() for function in functions}
    for app_config in apps.get_app_configs():
        module = f"{app_config.name}.roles"
        if module != __name__ and module not in registered and module_has_submodule(app_config.module, "roles"):
            errors.append(checks.Error(f"{module} registered no role: import it from {type(app_config).__name__}.ready().",
                                       id="roles.E002"))
    return errors


def _held(role: str):
    functions = EXPRESSIONS[role]
    if not functions:
        raise ImproperlyConfigured(f"No app declares the role {role!r}: see iea.roles.")
    return functools.reduce(operator.or_, (function() for function in functions))


def user_roles(user) -> Roles:
    if not getattr(user, "is_authenticated", False):
        return Roles()
    cached = getattr(user, "_iea_roles", None)
    if cached is not None:
        return cached
    row = _roles_row(user.pk)
    roles = Roles(
        staff=user.is_staff,
        **{role: bool(row.get(f"is_{role}")) for role in DECLARED},
        two_factor=bool(row.get("has_totp")),
    )
    user._iea_roles = roles
    return roles


# Every request asks (iea.mfa): building and compiling the query's six EXISTS took some 2 ms of Python, running
# it a tenth of that. It is compiled once per process and set of registered expressions, for this stand-in
# id, which each call replaces by the person's. The expressions are therefore read once: they must not
# depend on the moment (no ``now()`` in them), nor on anything but the person.
_ANY_USER = -907_315_244
_COLUMNS = (*(f"is_{role}" for role in DECLARED), "has_totp")


def _roles_row(user_id: int) -> dict:
    user_model = get_user_model()
    alias = router.db_for_read(user_model)
    registered = tuple(tuple(EXPRESSIONS[role]) for role in DECLARED)
    sql, params, position = _roles_statement(alias, registered)
    with connections[alias].cursor() as cursor:
        cursor.execute(sql, (*params[:position], user_id, *params[position + 1:]))
        row = cursor.fetchone()
    return dict(zip(_COLUMNS, row, strict=True)) if row else {}


@functools.lru_cache(maxsize=16)
def _roles_statement(alias: str, registered: tuple) -> tuple[str, tuple, int]:
    """The roles query for ``_ANY_USER``, compiled for ``alias``: its SQL, its parameters and the position of
    the person's id among them. ``registered`` (the expressions of each role) keys the cache."""
    query = (
        get_user_model()
        .objects.filter(pk=_ANY_USER)
        .annotate(
            **{f"is_{role}": _held(role) for role in DECLARED},
            has_totp=Exists(Authenticator.objects.filter(user_id=OuterRef("pk"), type=Authenticator.Type.TOTP)),
        )
        .values(*_COLUMNS)[:1]
    ).query
    sql, params = query.get_compiler(using=alias).as_sql()
    positions = [index for index, param in enumerate(params) if param == _ANY_USER]
    if len(positions) != 1:
        raise ImproperlyConfigured(f"The roles query names the person {len(positions)} times, not once: see iea.roles.")
    return sql, tuple(params), positions[0]


@rules.predicate
def is_directorate(user) -> bool:
    """The directorate is an active staff account: it sees and decides across all calls and apps."""
    return user.is_authenticated and user.is_active and user.is_staff
