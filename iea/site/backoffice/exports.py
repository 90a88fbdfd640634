"""The statistics page's workbook: one sheet per table of the page (the same ``Table`` objects, so the workbook
and the page cannot disagree), counts as numbers, rates as percentages, amounts in euros, and a sheet with the
definitions and the scope."""

from django.utils import timezone
from django.utils.translation import gettext as _

from iea.formats import XLSX_INTEGER, XLSX_MONEY, XLSX_PERCENT
from iea.http import private_download
from iea.spreadsheets import XLSX_CONTENT_TYPE, Sheet, workbook

from .statistics import DEFINITIONS

_FORMATS = {"count": XLSX_INTEGER, "money": XLSX_MONEY, "rate": XLSX_PERCENT}


def _sheet(table) -> Sheet:
    kinds = (table.rows or [table.footer])[0]
    rows = [[cell.value for cell in row] for row in [*table.rows, *([table.footer] if table.footer else [])]]
    return Sheet(title=table.caption, headers=table.headers, rows=rows,
                 formats={index: _FORMATS[cell.kind] for index, cell in enumerate(kinds) if cell.kind in _FORMATS})


def statistics_xlsx(request, tables, *, scope, calls):
    """The download: ``statistics-<call year or all>-<date>.xlsx``."""
    years = [str(call.year) for call in calls if scope.call_ids and call.pk in scope.call_ids]
    definitions = Sheet(title=_("Definitions"), headers=[_("Term"), _("Definition")],
                        rows=[[str(term), str(meaning)] for term, meaning in DEFINITIONS], widths={1: 100})
    content = workbook([definitions, *(_sheet(table) for table in tables)])
    filename = f"statistics-{'-'.join(years) or 'all'}-{timezone.localdate():%Y-%m-%d}.xlsx"
    return private_download(content, filename=filename, content_type=XLSX_CONTENT_TYPE)
