"""The public figures of a call (``/calls/<year>/figures/``), once the directorate has set ``Call.figures_public``:
how many proposals were submitted, found eligible, selected and funded, the success rates, by evaluating
institute and by partner country (with the map). Counts and rates only: never a proposal's amount.

The figures are the back office's (``iea.site.backoffice.statistics``: the same definitions) and are cached
for an hour per call and language — rendered as a fragment, not the whole page, whose header shows who is
signed in. Before publication, staff see a preview (not cached) and everyone else a 404.
"""

from django.core.cache import cache
from django.http import Http404
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from calls.models import Call
from calls.selectors import public_calls
from iea import charts, formats
from iea.roles import is_directorate

from .backoffice.statistics import DEFINITIONS, StatsScope, by_country, by_institute, by_year

CACHE_SECONDS = 3600


def cache_key(call: Call, language: str) -> str:
    return f"call-figures:{call.pk}:{language}"


def figures_fragment(call: Call) -> str:
    """The figures' HTML in the active language: three queries."""
    scope = StatsScope(call_ids=(call.pk,))
    total = next(iter(by_year(scope, [call])))
    institutes, countries = by_institute(scope), by_country(scope)
    return render_to_string("calls/_figures.html", {
        "call": call, "total": total, "institutes": institutes, "countries": countries,
        "definitions": DEFINITIONS[:5],
        "institutes_chart": charts.bars(
            [(row.label, row.rate) for row in institutes], max_value=1, value_format=formats.percent,
            key="figures-institutes", title=_("Success rate by evaluating institute"),
            description=_("Selected ÷ submitted for each institute.")),
        "map": charts.world_map(
            {row.key: row.selected for row in countries if row.key}, key="figures-countries",
            title=_("Selected proposals by partner country"),
            description=_("The darker a country, the more proposals with a partner there were selected.")),
    })


@require_GET
def call_figures(request, year: int):
    call = Call.objects.filter(pk__in=public_calls().values("pk"), year=year).first()
    if call is None or not (call.figures_public or is_directorate(request.user)):
        raise Http404
    if call.figures_public:
        fragment = cache.get_or_set(cache_key(call, translation.get_language()), lambda: figures_fragment(call),
                                    CACHE_SECONDS)
    else:
        fragment = figures_fragment(call)
    return render(request, "calls/figures.html", {"call": call, "figures": fragment, "preview": not call.figures_public})
