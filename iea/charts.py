"""The chart kit: horizontal bars, grouped bars and a world map, drawn on the server as SVG.

Hand-written rather than pygal (docs/plans/19-back-office.md §4): pygal puts a ``<style>`` element and an
inline ``<script>`` in every chart, which our Content-Security-Policy refuses. Here every chart is an
``<svg role="img">`` labelled by its ``<title>`` and a ``<desc>`` that sums it up and says that the table
beside it gives the figures; no script, no ``<style>``, no ``style=`` attribute. Colours are classes
(``static/css/charts.css``, light and dark) over presentation attributes, so a chart opened on its own
still shows. Numbers are written by ``iea.formats`` in the active language; the geometry never is
(``12.5``, not ``12,5``).

A chart is never the only way to read the figures: each page puts a ``<table>`` beside it, with the links.
The core imports no app.
"""

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.template.loader import render_to_string
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from . import formats

Number = int | float | Decimal
Formatter = Callable[[Number], str]

# Drawn at 520 units, shown at most 1:1 (charts.css): on a phone, a unit is still two-thirds of a pixel.
WIDTH = 520
LABEL_WIDTH = 150  # the labels' column, left of the bars
VALUE_WIDTH = 80  # room right of the longest bar for its value
LABEL_CHARACTERS = 22  # a longer label is cut ("…") in the chart; its <title> and the table keep it whole
BAR_HEIGHT, BAR_GAP, GROUP_GAP, TOP, LEGEND_ROW = 16, 6, 14, 8, 20
SERIES = 6  # colours in charts.css; a seventh series takes the first colour again
# Fallback colours (presentation attributes), the same as charts.css's light theme.
_FILLS = ("#0b5cad", "#c2410c", "#15803d", "#7e22ce", "#a16207", "#0e7490")
TEXT_FILL = "#1f2937"
# The map's classes, from no value (0) to the most (5); other numbers of bins are spread over them.
_BIN_FILLS = ("#e5e7eb", "#c6dbef", "#9ecae1", "#6baed6", "#3182bd", "#08519c")


def _length(value: Number | None, top: Number) -> float:
    if not value or not top or value <= 0:
        return 0.0
    return float(Decimal(str(value)) / Decimal(str(top))) * (WIDTH - LABEL_WIDTH - VALUE_WIDTH)


def _short(label) -> str:
    label = str(label)
    return label if len(label) <= LABEL_CHARACTERS else label[:LABEL_CHARACTERS - 1].rstrip() + "…"


def _key(kind: str, title, key: str | None) -> str:
    """The ids the ``aria-labelledby`` points at: unique on a page that shows several charts."""
    return key or f"{kind}-{hashlib.sha1(str(title).encode(), usedforsecurity=False).hexdigest()[:8]}"


def _fmt(x: float) -> str:
    return f"{x:.1f}"


def _summary(description, empty: bool) -> str:
    if empty:
        return " ".join(filter(None, [str(description or ""), _("No data.")]))
    return " ".join(filter(None, [str(description or ""), _("The table beside the chart gives the figures.")]))


@dataclass(frozen=True)
class _Bar:
    y: str
    width: str
    value_x: str
    text_y: str
    value: str
    series: int
    fill: str


def bars(rows: Sequence[tuple[object, Number | None]], *, title, description="", max_value: Number | None = None,
         value_format: Formatter = formats.number, key: str | None = None) -> SafeString:
    """One horizontal bar per ``(label, value)``, the value written beside it; lengths are proportional to
    the values over ``max_value`` (the largest value by default). No rows: a chart that says "No data"."""
    return grouped_bars([(label, [value]) for label, value in rows], series=[], title=title,
                        description=description, max_value=max_value, value_format=value_format,
                        key=_key("bars", title, key))


def grouped_bars(groups: Sequence[tuple[object, Sequence[Number | None]]], *, series: Sequence[object], title,
                 description="", max_value: Number | None = None, value_format: Formatter = formats.number,
                 key: str | None = None) -> SafeString:
    """For each ``(label, values)`` group, one horizontal bar per series (``values[i]`` for ``series[i]``),
    with a legend naming the series above the bars (none for a single unnamed series)."""
    key = _key("grouped", title, key)
    values = [v for _label, vs in groups for v in vs if v is not None]
    top = max_value if max_value is not None else max([0, *values])
    legend = [{"label": str(name), "series": i % SERIES, "fill": _FILLS[i % SERIES], "x": "0",
               "y": _fmt(TOP + i * LEGEND_ROW), "text_y": _fmt(TOP + 11 + i * LEGEND_ROW)}
              for i, name in enumerate(series)]  # one a line: a long name never runs into the next
    y = TOP + (len(series) * LEGEND_ROW + 8 if series else 0)
    drawn = []
    for label, group_values in groups:
        group_top = y
        group_bars = []
        for index, value in enumerate(group_values):
            length = _length(value, top)
            group_bars.append(_Bar(
                y=_fmt(y), width=_fmt(length), value_x=_fmt(LABEL_WIDTH + length + 6), text_y=_fmt(y + 12),
                value="" if value is None else value_format(value), series=index % SERIES,
                fill=_FILLS[index % SERIES]))
            y += BAR_HEIGHT + BAR_GAP
        middle = (group_top + y - BAR_GAP) / 2
        drawn.append({"label": str(label), "short": _short(label), "label_y": _fmt(middle + 4), "bars": group_bars})
        y += GROUP_GAP - BAR_GAP
    empty = not groups
    height = 40 if empty else y + TOP
    return render_to_string("charts/bars.svg", {
        "key": key, "title": str(title), "description": _summary(description, empty), "groups": drawn,
        "legend": legend, "width": WIDTH, "height": _fmt(height), "label_width": LABEL_WIDTH, "empty": empty,
        "text_fill": TEXT_FILL,
    })


def world_map(values: Mapping[str, int], *, title, description="", bins: int = 5,
              value_format: Formatter = formats.number, key: str | None = None) -> SafeString:
    """A choropleth of ``values`` by ISO 3166 alpha-2 code: ``bins`` classes of equal width up to the largest
    value, which is always in the darkest (``chart-bin-0`` for no value); each country's ``<title>`` gives its name in the active
    language and its value. Countries with a value and no shape (small islands) are listed under the map.
    No links in the map: the table beside it has them (170 tab stops otherwise)."""
    from django_countries import countries  # noqa: PLC0415 -- a library, not an app of ours: loaded when drawn

    from .charts_world import HEIGHT, SHAPES  # noqa: PLC0415 -- 100 KB of paths, only for the pages with a map

    key = _key("map", title, key)
    positive = {code.upper(): value for code, value in values.items() if value}
    top = max(positive.values(), default=0)

    def bin_of(value: int) -> int:
        if not value or not top:
            return 0
        return min(bins, -(-value * bins // top))  # the bin (top × (i − 1) / bins, top × i / bins]

    def fill(index: int) -> str:
        return _BIN_FILLS[-(-index * (len(_BIN_FILLS) - 1) // bins)]

    shapes = []
    for code, path in SHAPES.items():
        value = positive.get(code, 0)
        name = countries.name(code) or code
        shapes.append({"code": code, "path": path, "bin": bin_of(value), "fill": fill(bin_of(value)),
                       "title": _("%(country)s: %(value)s") % {"country": name, "value": value_format(value)}
                       if value else str(name)})
    missing = sorted(((countries.name(code) or code, value_format(value)) for code, value in positive.items()
                      if code not in SHAPES), key=lambda pair: str(pair[0]))
    limits = []
    for index in range(1, bins + 1):
        low, high = (index - 1) * top // bins + 1, index * top // bins  # the values bin_of puts here
        if top and high >= low:
            limits.append({"bin": index, "fill": fill(index), "x": 40 + len(limits) * 520, "text_x": 140 + len(limits) * 520,
                           "text": value_format(low) if low == high
                           else f"{value_format(low)}–{value_format(high)}"})
    return render_to_string("charts/world_map.html", {
        "key": key, "title": str(title), "description": _summary(description, not positive), "shapes": shapes,
        "height": HEIGHT + (160 if limits else 20), "legend_y": HEIGHT + 40, "legend_text_y": HEIGHT + 110,
        "missing": missing, "limits": limits,
    })
