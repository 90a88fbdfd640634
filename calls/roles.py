"""The roles calls gives (``iea.roles``): an institute's officers, who follow the proposals their institute
evaluates, and a unit's managers, who follow its awards."""

from django.db.models import Exists, OuterRef

from iea.roles import held_when

from .models import Institute, Unit


@held_when("officer")
def institute_officer() -> Exists:
    return Exists(Institute.officers.through.objects.filter(user_id=OuterRef("pk")))


@held_when("unit_manager")
def unit_manager() -> Exists:
    return Exists(Unit.managers.through.objects.filter(user_id=OuterRef("pk")))
