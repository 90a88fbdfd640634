"""The roles the review gives (``iea.roles``): a panel's officers (an officer too, with the institutes'),
and the reviewers, while their reviewer record is active."""

from django.db.models import Exists, OuterRef

from iea.roles import held_when

from .models import Panel, Reviewer


@held_when("officer")
def panel_officer() -> Exists:
    return Exists(Panel.officers.through.objects.filter(user_id=OuterRef("pk")))


@held_when("reviewer")
def active_reviewer() -> Exists:
    return Exists(Reviewer.objects.filter(user_id=OuterRef("pk"), active=True))
