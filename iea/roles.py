"""What a signed-in person is, for navigation and for the permission predicates.

One query answers all roles, and whether the person has set up two-factor authentication (``iea.mfa``
asks it on every request); the result is cached on the user object for the request.
"""

from dataclasses import dataclass

import rules


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


def user_roles(user) -> Roles:
    if not getattr(user, "is_authenticated", False):
        return Roles()
    cached = getattr(user, "_iea_roles", None)
    if cached is not None:
        return cached
    from allauth.mfa.models import Authenticator
    from django.contrib.auth import get_user_model
    from django.db.models import Exists, OuterRef

    from calls.models import Institute, Unit
    from funding.models import Award
    from reviews.models import Panel, Reviewer

    row = (
        get_user_model()
        .objects.filter(pk=user.pk)
        .annotate(
            is_officer=Exists(Institute.officers.through.objects.filter(user_id=OuterRef("pk")))
            | Exists(Panel.officers.through.objects.filter(user_id=OuterRef("pk"))),
            is_reviewer=Exists(Reviewer.objects.filter(user_id=OuterRef("pk"), active=True)),
            is_unit_manager=Exists(Unit.managers.through.objects.filter(user_id=OuterRef("pk"))),
            is_awardee=Exists(Award.objects.filter(proposal__pi_id=OuterRef("pk"))),
            has_totp=Exists(Authenticator.objects.filter(user_id=OuterRef("pk"), type=Authenticator.Type.TOTP)),
        )
        .values("is_officer", "is_reviewer", "is_unit_manager", "is_awardee", "has_totp")
        .first()
        or {}
    )
    roles = Roles(
        staff=user.is_staff,
        officer=bool(row.get("is_officer")),
        reviewer=bool(row.get("is_reviewer")),
        unit_manager=bool(row.get("is_unit_manager")),
        awardee=bool(row.get("is_awardee")),
        two_factor=bool(row.get("has_totp")),
    )
    user._iea_roles = roles
    return roles


@rules.predicate
def is_directorate(user) -> bool:
    """The directorate is an active staff account: it sees and decides across all calls and apps."""
    return user.is_authenticated and user.is_active and user.is_staff
