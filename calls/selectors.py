"""Reads of calls shared by the public pages, and the unit search of the proposal editor's unit field."""

from dataclasses import dataclass

from django.db.models import Case, IntegerField, Prefetch, Q, Value, When

from iea.text import fold

from .models import PUBLIC_CALL_STATES, Call, Criterion, InstitutePriority, Unit, parse_unit_code

# A list to choose from, not to browse: whoever finds more types a few more letters.
UNIT_SEARCH_LIMIT = 20
# One letter would match nearly every unit.
UNIT_SEARCH_MIN_LENGTH = 2


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


@dataclass(frozen=True)
class UnitSearch:
    query: str
    units: list[Unit]
    more: bool  # more units match than ``units`` holds

    @property
    def searched(self) -> bool:
        """Whether the query was long enough to search (else nothing was looked for)."""
        return _searchable(self.query)


def _searchable(query: str) -> bool:
    return len(fold(query).replace(" ", "")) >= UNIT_SEARCH_MIN_LENGTH


def units_search(query: str, *, limit: int = UNIT_SEARCH_LIMIT) -> UnitSearch:
    """The units whose code (any spelling: ``umr5558``, ``UMR 5558``), acronym, name or city hold every word of
    ``query``, case, accents and punctuation ignored; the unit whose code or acronym is the query first, then
    by code. At most ``limit``, and whether there are more. One query; none for a query of under two letters."""
    query = (query or "").strip()[:100]
    if not _searchable(query):
        return UnitSearch(query=query, units=[], more=False)
    parsed = parse_unit_code(query)
    exact = Q(acronym__iexact=query)
    if parsed is not None:
        exact |= Q(unit_type=parsed[0], number=parsed[1])
    units = list(
        Unit.objects.matching(query)
        .annotate(rank=Case(When(exact, then=Value(0)), default=Value(1), output_field=IntegerField()))
        .order_by("rank", "unit_type", "number")
        .only("unit_type", "number", "acronym", "name", "city")[:limit + 1]
    )
    return UnitSearch(query=query, units=units[:limit], more=len(units) > limit)
