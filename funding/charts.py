"""The budget consumed against the award per category, as a server-rendered SVG: no script, no inline CSS
(presentation attributes only), so it holds under the strict Content-Security-Policy and prints well."""

from decimal import Decimal

from django.template.loader import render_to_string
from django.utils.translation import gettext as _

from iea import formats

from .domain.spending import CategoryConsumption

WIDTH, LABEL_WIDTH, VALUE_WIDTH, BAR_HEIGHT, GAP = 640, 150, 170, 14, 14


def consumption_svg(rows: list[CategoryConsumption]) -> str:
    """Two bars per category: planned (outline) and spent (filled, red when above the plan); the amounts
    through ``iea.formats.money``, as in the table beside it."""
    top = max([Decimal(1), *(r.planned for r in rows), *(r.spent for r in rows)])
    usable = WIDTH - LABEL_WIDTH - VALUE_WIDTH
    bars = []
    for index, row in enumerate(rows):
        y = 10 + index * (2 * BAR_HEIGHT + GAP)
        bars.append({
            "row": row, "y": y, "y_spent": y + BAR_HEIGHT, "text_y": y + BAR_HEIGHT + 4,
            "planned_width": float(row.planned / top * usable), "spent_width": float(row.spent / top * usable),
            "over": row.spent > row.planned, "value_x": LABEL_WIDTH + usable + 8,
            "spent": formats.money(row.spent), "planned": formats.money(row.planned),
        })
    height = 20 + len(rows) * (2 * BAR_HEIGHT + GAP)
    description = " ".join(
        _("%(category)s: %(spent)s spent of %(planned)s planned.")
        % {"category": row.label, "spent": formats.money(row.spent), "planned": formats.money(row.planned)}
        for row in rows
    )
    return render_to_string("funding/_consumption.svg", {
        "bars": bars, "width": WIDTH, "height": height, "label_width": LABEL_WIDTH, "description": description,
        "title": _("Budget consumed per category, against the award"),
    })
