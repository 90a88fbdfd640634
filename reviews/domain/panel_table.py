"""The institute officer's panel table (domain.md, "Actors": institute officer): one row per proposal of the
panel the officer may see, with the criterion means, the weighted total, the median and spread of the
reviewers' weighted totals (and the disagreement flag), the calibrated score, the reviews done against
those expected, the match with the institute's priorities, the thresholds missed and the panel's
recommendation. Only submitted, non-conflicted reviews count.

The figures are kept by the database (``reviews.domain.panel_figures``): sorting, filtering, counting and
paging are SQL, so a page of the table reads its hundred rows and not the whole panel. The same query
serves the page, the XLSX export (every row, same filters and order) and the API.
"""

import functools
import operator
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Case, Count, F, FloatField, Q, Value, When
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast, Coalesce, Lower, NullIf

from proposals.models import Proposal

from ..models import Panel, PanelRecommendation, Recommendation
from ..rules import panel_proposals
from .panel import PANEL_STATES
from .panel_figures import fresh_figures, mean_key, panel_figures_refresh
from .priorities import Priorities, PriorityMatch
from .readiness import ThresholdMiss, threshold_misses

# A proposal whose reviewers' weighted totals differ by this much (0–5 scale) needs a discussion.
DISAGREEMENT_THRESHOLD = Decimal("1.5")
# The recommendation filter's value for "not recommended yet".
NO_RECOMMENDATION = "none"
DEFAULT_SORT = "-total"


# ---------------------------------------------------------------------------------------------------
# Rows
# ---------------------------------------------------------------------------------------------------

@dataclass
class Row:
    proposal: Proposal
    criterion_means: list[Decimal | None]
    weighted_total: Decimal | None
    median: Decimal | None
    spread: Decimal | None
    disagreement: bool
    calibrated: float | None
    reviews_done: int
    reviews_expected: int
    priority: PriorityMatch = field(default_factory=PriorityMatch)
    recommendation: PanelRecommendation | None = None
    # The criterion thresholds and the call's overall one that the means miss (reviews.domain.readiness).
    threshold_misses: list[ThresholdMiss] = field(default_factory=list)

    @property
    def incomplete(self) -> bool:
        return self.reviews_done < self.reviews_expected

    @property
    def rank(self) -> int | None:
        return self.recommendation.rank if self.recommendation else None

    @property
    def recommended(self) -> str:
        return self.recommendation.recommendation if self.recommendation else ""


TABLE_FIELDS = (
    "call_id", "pi_id", "reference", "state", "title", "acronym", "keywords", "partner_country", "unit_id",
    "evaluating_institute_id", "pi__full_name", "pi__email", "panel_recommendation__panel_id",
    "panel_recommendation__rank", "panel_recommendation__recommendation", "panel_recommendation__proposed_amount",
    "panel_figures__totals_counted", "panel_figures__reviews_done", "panel_figures__criterion_means",
    "panel_figures__weighted_total", "panel_figures__median", "panel_figures__spread", "panel_figures__calibrated",
    "panel_figures__priority",
)


# ---------------------------------------------------------------------------------------------------
# Sorting
# ---------------------------------------------------------------------------------------------------

_SORTS = ("reference", "acronym", "total", "median", "spread", "calibrated", "reviews", "priority", "rank",
          "recommendation", "amount")


def sort_keys(criteria) -> list[str]:
    """The sortable columns, as the ``sort`` parameter names them (``-key`` sorts from the highest):
    the proposal's columns, then ``c<position>`` for each criterion's mean."""
    return [*_SORTS, *(f"c{criterion.position}" for criterion in criteria)]


def _sort_expression(name: str, criteria):
    by_position = {f"c{criterion.position}": criterion for criterion in criteria}
    if name in by_position:
        return Cast(KeyTextTransform(mean_key(by_position[name].pk), "panel_figures__criterion_means"), FloatField())
    return {
        "reference": F("reference"),
        "acronym": Lower(Coalesce(NullIf("acronym", Value("")), "title")),
        "total": F("panel_figures__weighted_total"),
        "median": F("panel_figures__median"),
        "spread": F("panel_figures__spread"),
        "calibrated": F("panel_figures__calibrated"),
        "reviews": Coalesce("panel_figures__reviews_done", 0),
        "priority": F("panel_figures__priority"),
        "rank": F("panel_recommendation__rank"),
        "recommendation": Case(When(panel_recommendation__recommendation=Recommendation.FUND, then=Value(0)),
                               When(panel_recommendation__recommendation=Recommendation.RESERVE, then=Value(1)),
                               When(panel_recommendation__recommendation=Recommendation.REJECT, then=Value(2)),
                               default=None),
        "amount": F("panel_recommendation__proposed_amount"),
    }[name]


# ---------------------------------------------------------------------------------------------------
# The table
# ---------------------------------------------------------------------------------------------------

class PanelTable:
    """The rows of the panel table that the filters keep, in the order asked for (``-key`` for
    descending; empty values last either way; the reference breaks ties; an unknown key falls back to
    the default order, which ``sort`` then names).

    A lazy sequence, as Django's and DRF's paginators want it. Building it is one query (how many rows
    the filters keep, and whether the kept figures are up to date — ``fresh_figures`` — if not, they are
    recomputed first);
    a slice is one query that sorts the ids alone and reads the slice's rows; iterating is one query for
    every row (the export)."""

    def __init__(self, *, panel: Panel, user, sort: str = "", disagreement=False, incomplete=False, priority=False,
                 recommendation: str = "", under_threshold=False):
        self.panel = panel
        self.criteria = list(panel.call.criteria.order_by("position"))
        self.priorities = Priorities.of(call_id=panel.call_id, institute_id=panel.institute_id)
        self._visible = panel_proposals(panel, user).filter(state__in=PANEL_STATES)
        name = (sort or "").removeprefix("-")
        if name not in sort_keys(self.criteria):
            sort, name = DEFAULT_SORT, DEFAULT_SORT.removeprefix("-")
        self.sort = sort
        ordering = _sort_expression(name, self.criteria)
        self._ordering = [ordering.desc(nulls_last=True) if sort.startswith("-") else ordering.asc(nulls_last=True),
                          "reference"]
        self._shown = self._filter(disagreement=disagreement, incomplete=incomplete, priority=priority,
                                   recommendation=recommendation, under_threshold=under_threshold)
        counts = self._counts()
        if counts["fresh"] != counts["visible"]:
            panel_figures_refresh(panel=panel)
            counts = self._counts()
        self._count = counts["shown"]

    def _filter(self, *, disagreement, incomplete, priority, recommendation, under_threshold) -> Q | None:
        """The officer's filters as one condition (None: every row)."""
        kept = []
        if disagreement:
            kept.append(Q(panel_figures__totals_counted__gte=2, panel_figures__spread__gte=DISAGREEMENT_THRESHOLD))
        if incomplete:
            kept.append(Q(panel_figures__reviews_done__lt=self.panel.reviews_per_proposal))
        if priority:
            kept.append(Q(panel_figures__priority=True))
        if under_threshold:
            under = Q(pk__in=[])
            for criterion in self.criteria:
                if criterion.threshold is not None:
                    key = f"panel_figures__criterion_means__{mean_key(criterion.pk)}__lt"
                    under |= Q(**{key: float(criterion.threshold)})
            if self.panel.call.overall_threshold is not None:
                under |= Q(panel_figures__weighted_total__lt=self.panel.call.overall_threshold)
            kept.append(under)
        if recommendation == NO_RECOMMENDATION:
            kept.append(Q(panel_recommendation__isnull=True) | Q(panel_recommendation__recommendation=""))
        elif recommendation:
            kept.append(Q(panel_recommendation__recommendation=recommendation))
        return functools.reduce(operator.and_, kept) if kept else None

    def _counts(self) -> dict:
        """The proposals the user may see, those whose kept figures are this panel's and up to date, and
        those the filters keep: one query."""
        return self._visible.aggregate(
            visible=Count("pk"),
            fresh=Count("pk", filter=fresh_figures(panel=self.panel, criteria=self.criteria,
                                                   priorities=self.priorities)),
            shown=Count("pk", filter=self._shown) if self._shown is not None else Count("pk"),
        )

    def _rows(self):
        rows = self._visible.filter(self._shown) if self._shown is not None else self._visible
        return rows.order_by(*self._ordering)

    def _read(self, rows) -> list[Row]:
        rows = (rows.select_related("pi", "panel_recommendation", "panel_figures").only(*TABLE_FIELDS)
                .annotate(country_code=F("partner_country")))  # the code: no Country object per row
        return [self._row(proposal) for proposal in rows.order_by(*self._ordering)]

    def _row(self, proposal: Proposal) -> Row:
        figures = getattr(proposal, "panel_figures", None)
        kept = figures.criterion_means if figures is not None else {}
        means = {criterion.pk: Decimal(str(kept[mean_key(criterion.pk)]))
                 for criterion in self.criteria if mean_key(criterion.pk) in kept}
        total = figures.weighted_total if figures is not None else None
        spread = figures.spread if figures is not None else None
        return Row(
            proposal=proposal,
            criterion_means=[means.get(criterion.pk) for criterion in self.criteria],
            weighted_total=total,
            median=figures.median if figures is not None else None,
            spread=spread,
            disagreement=figures is not None and figures.totals_counted >= 2 and spread >= DISAGREEMENT_THRESHOLD,
            calibrated=float(figures.calibrated) if figures is not None and figures.calibrated is not None else None,
            reviews_done=figures.reviews_done if figures is not None else 0,
            reviews_expected=self.panel.reviews_per_proposal,
            priority=self.priorities.match(country=proposal.country_code, keywords=proposal.keywords),
            recommendation=getattr(proposal, "panel_recommendation", None),
            threshold_misses=threshold_misses(means=means, criteria=self.criteria, call=self.panel.call, total=total),
        )

    def count(self) -> int:
        return self._count

    def __len__(self) -> int:
        return self._count

    def __getitem__(self, index):
        if not isinstance(index, slice):
            return self[index:index + 1][0]
        # The slice's ids are sorted from the narrow columns the order needs; only their rows are read whole.
        return self._read(Proposal.objects.filter(pk__in=self._rows().values("pk")[index]))

    def __iter__(self):
        return iter(self._read(self._rows()))


def panel_table(*, panel: Panel, user, sort: str = "", **filters) -> PanelTable:
    """The panel table as the user may see it (``panel_proposals``: never their own conflicts), with the
    officer's filters (``disagreement``, ``incomplete``, ``priority``, ``under_threshold``,
    ``recommendation``) and order."""
    return PanelTable(panel=panel, user=user, sort=sort, **filters)
