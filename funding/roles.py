"""The role funding gives (``iea.roles``): an awardee is the PI of at least one award, whatever its state."""

from django.db.models import Exists, OuterRef

from iea.roles import held_when

from .models import Award


@held_when("awardee")
def award_pi() -> Exists:
    return Exists(Award.objects.filter(proposal__pi_id=OuterRef("pk")))
