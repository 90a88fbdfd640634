"""The figures of the officer's panel table, computed by the database and kept (``PanelFigures``).

Per proposal of a panel (a call in an institute), from the reviews that count there — submitted, by a
reviewer of the institute, not in conflict with the proposal, with at least one score:
- the mean score per criterion, and their weighted total (Σ wᵢ·meanᵢ / Σ wᵢ, as ``readiness.weighted_total``);
- the median and the spread (highest − lowest) of the reviews' weighted totals;
- the calibrated score: the mean of the reviews' z-scores, each review's weighted total standardised against
  its reviewer's own weighted totals in the call (population standard deviation; a reviewer with one
  review, or who gave the same total everywhere, says nothing about their scale: z = 0).

Reading them on every request meant aggregating every score of the panel (90,000 at 5,000 proposals):
several hundred milliseconds on the benchmark machine before the first row is sorted. So they are
kept: ``panel_figures_refresh`` recomputes the whole panel in one query and writes the rows that changed.
The whole panel, because one review moves its reviewer's scale, hence the calibrated score of every
proposal that reviewer saw. It runs on reading the table (``panel_table``, one query tells), when

- the panel is marked stale (``panel_figures_invalidate``) by the domain functions that change what counts,
  in their transaction: a review submitted (``review_submit``) or reopened (``review_reopen``), a conflict
  recorded for a reviewer who had submitted (``conflicts._record``). Marking is one UPDATE: the reviewer's
  submission does not wait for the panel's recomputation (most of a second at 5,000 proposals);
- a proposal of the panel has no figures, or figures computed from something that changed since: another
  panel (the proposal's institute changed), other criteria or weights, other priorities (the call's
  admin), other keywords or partner country. So data loaded in bulk, a new panel and an edited call heal
  on the next read.

The refresh and the marking take the panel's row lock: a review submitted while the table recomputes marks
the panel again once the recomputation has committed, so nothing is lost between the two.

The priority match is kept too (``reviews.domain.priorities``): SQL cannot ignore accents the same way on
SQLite and PostgreSQL, and the table filters and sorts on it.

Nothing else changes what counts: reviews, scores and conflicts are read-only in the admin, conflicts are
never removed, and a reviewer's institute is fixed once they are in a pool (``ReviewerAdmin``).
Scores are whole tenths and weights whole hundredths: the sums are exact integers, so equal totals are
equal floats and an "identical totals" reviewer is recognised exactly.
"""

import hashlib
from decimal import ROUND_HALF_EVEN, Decimal, localcontext

from django.db import connection, transaction
from django.db.models import F, Q

from calls.models import Criterion
from proposals.models import Proposal, evaluated_by

from ..models import Conflict, Panel, PanelFigures, Review, Reviewer, ReviewState, Score
from .panel import PANEL_STATES
from .priorities import Priorities

PLACES = Decimal("1e-9")


def rounded(value) -> Decimal | None:
    """A figure as kept: 9 decimals, so that values equal in exact arithmetic compare equal."""
    if value is None:
        return None
    if isinstance(value, float):
        return Decimal(f"{value:.9f}")
    return value.quantize(PLACES, rounding=ROUND_HALF_EVEN)


def inputs_key(criteria, priorities: Priorities) -> str:
    """What the figures depend on besides the reviews and the proposal: the call's criteria with their
    weights, and the institute's priorities."""
    text = ";".join(f"{criterion.pk}:{criterion.weight}" for criterion in sorted(criteria, key=lambda c: c.pk))
    return hashlib.sha256(f"{text}|{priorities.key}".encode()).hexdigest()[:32]


def mean_key(criterion_id: int) -> str:
    # Not the bare id: a key that looks like a number is an array index to the JSON lookups.
    return f"c{criterion_id}"


def _table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def figures_sql(count: int) -> str:
    """One query for ``count`` criteria: per proposal reviewed by the institute's reviewers in the call, the
    counted reviews, each criterion's score sum (in tenths) and number of scores, and the median, spread and
    mean z-score of the reviews' weighted totals. Plain SQL that SQLite and PostgreSQL both run (Django
    gives SQLite connections STDDEV_POP)."""
    scores = "".join(f", MAX(CASE WHEN criterion_id = %s THEN s10 END) AS c{i}" for i in range(count))
    sums = "".join(f", SUM(c{i}) AS sum{i}, COUNT(c{i}) AS n{i}" for i in range(count))
    columns = "".join(f", m.sum{i}, m.n{i}" for i in range(count))
    return f"""
    WITH scored AS (
        SELECT r.id AS review_id, r.proposal_id, r.reviewer_id, s.criterion_id,
               CAST(ROUND(s.score * 10) AS INTEGER) AS s10, CAST(ROUND(c.weight * 100) AS INTEGER) AS w100
        FROM {_table(Score)} s
        JOIN {_table(Review)} r ON r.id = s.review_id
        JOIN {_table(Reviewer)} rv ON rv.id = r.reviewer_id
        JOIN {_table(Proposal)} p ON p.id = r.proposal_id
        JOIN {_table(Criterion)} c ON c.id = s.criterion_id
        WHERE r.state = %s AND p.call_id = %s AND rv.institute_id = %s AND s.score IS NOT NULL
          AND NOT EXISTS (SELECT 1 FROM {_table(Conflict)} k
                          WHERE k.proposal_id = r.proposal_id AND k.reviewer_id = r.reviewer_id)
    ),
    reviews AS (
        SELECT review_id, proposal_id, reviewer_id,
               CASE WHEN SUM(w100) > 0 THEN CAST(SUM(w100 * s10) AS DOUBLE PRECISION) / (10 * SUM(w100)) END
                   AS total{scores}
        FROM scored GROUP BY review_id, proposal_id, reviewer_id
    ),
    scales AS (
        SELECT reviewer_id, AVG(total) AS mean, STDDEV_POP(total) AS sd, MIN(total) AS lo, MAX(total) AS hi
        FROM reviews WHERE total IS NOT NULL GROUP BY reviewer_id
    ),
    placed AS (
        SELECT t.proposal_id, t.total,
               CASE WHEN s.hi > s.lo AND s.sd > 0 THEN (t.total - s.mean) / s.sd ELSE 0 END AS z,
               ROW_NUMBER() OVER (PARTITION BY t.proposal_id ORDER BY t.total) AS place,
               COUNT(*) OVER (PARTITION BY t.proposal_id) AS counted
        FROM reviews t JOIN scales s ON s.reviewer_id = t.reviewer_id
    ),
    spreads AS (
        SELECT proposal_id, COUNT(*) AS counted,
               AVG(CASE WHEN place IN ((counted + 1) / 2, (counted + 2) / 2) THEN total END) AS median,
               MAX(total) - MIN(total) AS spread, AVG(z) AS calibrated
        FROM placed GROUP BY proposal_id
    ),
    means AS (
        SELECT proposal_id, COUNT(*) AS done{sums} FROM reviews GROUP BY proposal_id
    )
    SELECT m.proposal_id, m.done, sp.counted, sp.median, sp.spread, sp.calibrated{columns}
    FROM means m LEFT JOIN spreads sp ON sp.proposal_id = m.proposal_id
    """  # noqa: S608 (the models' table names; every value is a parameter)


def figures_params(panel: Panel, criteria: list[Criterion]) -> list:
    """``figures_sql``'s parameters for this panel and these criteria."""
    return [ReviewState.SUBMITTED, panel.call_id, panel.institute_id] + [criterion.pk for criterion in criteria]


def _computed(panel: Panel, criteria: list[Criterion]) -> dict[int, dict]:
    """The figures of every proposal the institute's reviewers reviewed in the call, from one query."""
    params = figures_params(panel, criteria)
    weights = {criterion.pk: criterion.weight for criterion in criteria}
    figures = {}
    with connection.cursor() as cursor, localcontext() as exact:
        # Sums of tenths over counts, with 40 digits: a mean or weighted total rounds to 9 decimals as the
        # exact fraction would (a value on a rounding boundary is a short decimal, computed exactly).
        exact.prec = 40
        cursor.execute(figures_sql(len(criteria)), params)
        for proposal_id, done, counted, median, spread, calibrated, *sums in cursor.fetchall():
            means = {criterion.pk: Decimal(int(sums[2 * i])) / (10 * sums[2 * i + 1])
                     for i, criterion in enumerate(criteria) if sums[2 * i + 1]}
            weight = sum((weights[cid] for cid in means), Decimal(0))
            total = sum((weights[cid] * mean for cid, mean in means.items()), Decimal(0)) / weight if weight else None
            figures[proposal_id] = {
                "reviews_done": done, "totals_counted": counted or 0,
                "criterion_means": {mean_key(cid): float(rounded(mean)) for cid, mean in means.items()},
                "weighted_total": rounded(total), "median": rounded(median), "spread": rounded(spread),
                "calibrated": rounded(calibrated),
            }
    return figures


FIELDS = ["panel", "inputs_key", "keywords", "partner_country", "priority", "reviews_done", "totals_counted",
          "criterion_means", "weighted_total", "median", "spread", "calibrated"]
_COLUMNS = ["panel_id" if name == "panel" else name for name in FIELDS]
_EMPTY = {"reviews_done": 0, "totals_counted": 0, "criterion_means": {}, "weighted_total": None, "median": None,
          "spread": None, "calibrated": None}


def panel_proposal_ids(panel: Panel):
    """Every proposal of the panel the table may show, whoever reads it (a subquery)."""
    return (Proposal.objects.filter(call_id=panel.call_id, state__in=PANEL_STATES)
            .filter(evaluated_by(panel.institute_id)).values("pk"))


def panel_figures_refresh(*, panel: Panel) -> int:
    """Recompute the figures of every proposal of the panel, write those that changed (returns how many)
    and mark the panel up to date.

    Under the lock on the panel's row, so two refreshes run one after the other (the second reading what
    the first wrote), and a change marking the panel stale meanwhile waits for this one to commit."""
    with transaction.atomic():
        Panel.objects.select_for_update().filter(pk=panel.pk).values_list("pk", flat=True).first()
        criteria = list(Criterion.objects.filter(call_id=panel.call_id).order_by("position"))
        priorities = Priorities.of(call_id=panel.call_id, institute_id=panel.institute_id)
        key = inputs_key(criteria, priorities)
        computed = _computed(panel, criteria)
        kept = {row[0]: row[1:] for row in PanelFigures.objects.filter(proposal_id__in=panel_proposal_ids(panel))
                .values_list("proposal_id", *_COLUMNS)}
        changed = []
        for proposal_id, keywords, country in (Proposal.objects.filter(pk__in=panel_proposal_ids(panel))
                                               .values_list("pk", "keywords", "partner_country")):
            values = {"panel_id": panel.pk, "inputs_key": key, "keywords": keywords, "partner_country": country,
                      "priority": priorities.match(country=country, keywords=keywords).matched,
                      **computed.get(proposal_id, _EMPTY)}
            if kept.get(proposal_id) != tuple(values[column] for column in _COLUMNS):
                changed.append(PanelFigures(proposal_id=proposal_id, **values))
        PanelFigures.objects.bulk_create(changed, update_conflicts=True, unique_fields=["proposal"],
                                         update_fields=FIELDS, batch_size=500)
        Panel.objects.filter(pk=panel.pk).update(figures_stale=False)
    return len(changed)


def panel_figures_invalidate(*, call_id: int, institute_id: int) -> None:
    """After a change to what counts among the reviews of the institute's reviewers in the call: the one
    panel they count in recomputes its figures on its next read. Call it in the change's transaction."""
    Panel.objects.filter(call_id=call_id, institute_id=institute_id).update(figures_stale=True)


def fresh_figures(*, panel: Panel, criteria, priorities: Priorities) -> Q:
    """The proposals (a queryset's condition) whose kept figures are up to date: this panel's, the panel not
    marked stale since, computed with these criteria and priorities, from the proposal's current keywords
    and partner country."""
    return Q(panel_figures__panel=panel, panel_figures__panel__figures_stale=False,
             panel_figures__inputs_key=inputs_key(criteria, priorities),
             panel_figures__keywords=F("keywords"), panel_figures__partner_country=F("partner_country"))
