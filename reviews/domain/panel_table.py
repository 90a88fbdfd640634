"""The institute officer's panel table (domain.md, "Actors": institute officer): one row per proposal of the
panel the officer may see, with the criterion means, the weighted total, the median and spread of the
reviewers' weighted totals (and the disagreement flag), the calibrated score, the reviews done against
those expected, the match with the institute's priorities, the thresholds missed and the panel's
recommendation. Only submitted, non-conflicted reviews count.

The figures are kept by the database (``reviews.domain.panel_figures``): sorting, filtering, counting and
paging are SQL, so a page of the table reads its hundred rows and not the whole panel. The same query
serves the page, the XLSX export (every row, same filters and order) and the API.
"""

import re
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Case, F, FloatField, Q, Value, When
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast, Coalesce, Lower, NullIf

from calls.models import InstitutePriority
from proposals.models import Proposal

from ..models import Panel, PanelRecommendation, Recommendation
from ..rules import panel_proposals
from .panel import PANEL_STATES
from .panel_figures import mean_key, panel_figures_ensure
from .readiness import ThresholdMiss, threshold_misses

# A proposal whose reviewers' weighted totals differ by this much (0–5 scale) needs a discussion.
DISAGREEMENT_THRESHOLD = Decimal("1.5")
# The recommendation filter's value for "not recommended yet".
NO_RECOMMENDATION = "none"
DEFAULT_SORT = "-total"


# ---------------------------------------------------------------------------------------------------
# The institute's priorities
# ---------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class PriorityMatch:
    """Why a proposal matches the institute's priorities for the call: the partner's country, or keywords
    of the proposal found in the priority themes."""

    country: str = ""
    keywords: tuple[str, ...] = ()

    @property
    def matched(self) -> bool:
        return bool(self.country or self.keywords)


def _norm(text: str) -> str:
    text = unicodedata.normalize("NFKD", text or "").encode("ascii", "ignore").decode().casefold()
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text).split())


def _themes(priority: InstitutePriority) -> str:
    return f" {_norm(priority.themes_fr)} {_norm(priority.themes_en)} "


def _keywords_found(keywords: str, themes: str) -> tuple[str, ...]:
    return tuple(
        keyword.strip() for keyword in re.split(r"[,;]", keywords or "")
        if _norm(keyword) and f" {_norm(keyword)} " in themes
    )


def priority_match(proposal: Proposal, priority: InstitutePriority | None) -> PriorityMatch:
    """The partner's country among the priority countries, and the proposal's keywords (whole words,
    case and accents ignored) found in the priority themes, French or English."""
    if priority is None:
        return PriorityMatch()
    countries = {str(country.code) for country in priority.priority_countries}
    country = str(proposal.partner_country.code or "") if proposal.partner_country else ""
    return PriorityMatch(country=country if country in countries else "",
                         keywords=_keywords_found(proposal.keywords, _themes(priority)))


def priority_q(proposals, priority: InstitutePriority | None) -> Q:
    """The proposals (of ``proposals``) that match the priorities, as a filter. The country is a column;
    the keywords are matched as ``priority_match`` does (accents and case ignored, whole words), which SQL
    cannot do the same way on SQLite and PostgreSQL: their ids are found once here, from the two short
    columns of the panel's proposals that carry keywords (one query)."""
    if priority is None:
        return Q(pk__in=[])
    countries = [str(country.code) for country in priority.priority_countries]
    themes = _themes(priority)
    by_keywords = []
    if themes.strip():
        by_keywords = [pk for pk, keywords in proposals.exclude(keywords="").values_list("pk", "keywords")
                       if _keywords_found(keywords, themes)]
    return Q(partner_country__in=countries) | Q(pk__in=by_keywords)


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


def _sort_expression(name: str, criteria, priority):
    by_position = {f"c{criterion.position}": criterion for criterion in criteria}
    if name in by_position:
        return Cast(KeyTextTransform(mean_key(by_position[name].pk), "panel_figures__criterion_means"), FloatField())
    if name == "priority":
        return Case(When(priority(), then=Value(1)), default=Value(0))
    return {
        "reference": F("reference"),
        "acronym": Lower(Coalesce(NullIf("acronym", Value("")), "title")),
        "total": F("panel_figures__weighted_total"),
        "median": F("panel_figures__median"),
        "spread": F("panel_figures__spread"),
        "calibrated": F("panel_figures__calibrated"),
        "reviews": Coalesce("panel_figures__reviews_done", 0),
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

    A lazy sequence, as Django's and DRF's paginators want it: ``count()`` is one COUNT, a slice one query
    for its rows, iterating one query for all of them (the export)."""

    def __init__(self, *, panel: Panel, user, sort: str = "", disagreement=False, incomplete=False, priority=False,
                 recommendation: str = "", under_threshold=False):
        self.panel = panel
        self.criteria = list(panel.call.criteria.order_by("position"))
        self.priority = InstitutePriority.objects.filter(call_id=panel.call_id, institute_id=panel.institute_id).first()
        proposals = panel_proposals(panel, user).filter(state__in=PANEL_STATES)
        panel_figures_ensure(panel=panel, proposals=proposals, criteria=self.criteria)
        self._priority_q = None
        self._proposals = proposals
        name = (sort or "").removeprefix("-")
        if name not in sort_keys(self.criteria):
            sort, name = DEFAULT_SORT, DEFAULT_SORT.removeprefix("-")
        self.sort = sort
        ordering = _sort_expression(name, self.criteria, self._priority)
        ordering = ordering.desc(nulls_last=True) if sort.startswith("-") else ordering.asc(nulls_last=True)
        rows = self._filtered(proposals, disagreement=disagreement, incomplete=incomplete, priority=priority,
                              recommendation=recommendation, under_threshold=under_threshold)
        self._rows = (rows.select_related("pi", "panel_recommendation", "panel_figures").only(*TABLE_FIELDS)
                      .order_by(ordering, "reference"))

    def _priority(self) -> Q:
        if self._priority_q is None:
            self._priority_q = priority_q(self._proposals, self.priority)
        return self._priority_q

    def _filtered(self, rows, *, disagreement, incomplete, priority, recommendation, under_threshold):
        if disagreement:
            rows = rows.filter(panel_figures__totals_counted__gte=2, panel_figures__spread__gte=DISAGREEMENT_THRESHOLD)
        if incomplete:
            rows = rows.filter(Q(panel_figures__isnull=True)
                               | Q(panel_figures__reviews_done__lt=self.panel.reviews_per_proposal))
        if priority:
            rows = rows.filter(self._priority())
        if under_threshold:
            under = Q(pk__in=[])
            for criterion in self.criteria:
                if criterion.threshold is not None:
                    key = f"panel_figures__criterion_means__{mean_key(criterion.pk)}__lt"
                    under |= Q(**{key: float(criterion.threshold)})
            if self.panel.call.overall_threshold is not None:
                under |= Q(panel_figures__weighted_total__lt=self.panel.call.overall_threshold)
            rows = rows.filter(under)
        if recommendation == NO_RECOMMENDATION:
            rows = rows.filter(Q(panel_recommendation__isnull=True) | Q(panel_recommendation__recommendation=""))
        elif recommendation:
            rows = rows.filter(panel_recommendation__recommendation=recommendation)
        return rows

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
            priority=priority_match(proposal, self.priority),
            recommendation=getattr(proposal, "panel_recommendation", None),
            threshold_misses=threshold_misses(means=means, criteria=self.criteria, call=self.panel.call, total=total),
        )

    def count(self) -> int:
        return self._rows.count()

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self._row(proposal) for proposal in self._rows[index]]
        return self[index:index + 1][0]

    def __iter__(self):
        return iter([self._row(proposal) for proposal in self._rows])


def panel_table(*, panel: Panel, user, sort: str = "", **filters) -> PanelTable:
    """The panel table as the user may see it (``panel_proposals``: never their own conflicts), with the
    officer's filters (``disagreement``, ``incomplete``, ``priority``, ``under_threshold``,
    ``recommendation``) and order."""
    return PanelTable(panel=panel, user=user, sort=sort, **filters)
