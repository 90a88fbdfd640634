"""Reads of calls shared by the public pages."""

from django.db.models import Prefetch

from .models import PUBLIC_CALL_STATES, Call, Criterion, InstitutePriority


def public_calls():
    return Call.objects.filter(state__in=PUBLIC_CALL_STATES).order_by("-year")


def public_call_detail(year: int) -> Call:
    return (
        public_calls()
        .prefetch_related(
            Prefetch("criteria", queryset=Criterion.objects.order_by("position")),
            Prefetch("priorities", queryset=InstitutePriority.objects.select_related("institute")),
        )
        .get(year=year)
    )
