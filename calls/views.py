from urllib.parse import urlsplit, urlunsplit

from django.contrib.auth.decorators import login_required
from django.http import Http404, QueryDict
from django.shortcuts import render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET

from .domain import call_deadline, call_phase, calls_by_relevance
from .models import Call
from .selectors import (
    UNIT_SEARCH_LIMIT,
    UNIT_SEARCH_MIN_LENGTH,
    public_call_detail,
    public_calls,
    units_search,
)


def _decorate(call: Call, now):
    call.phase = call_phase(call, now=now)
    call.deadline = call_deadline(call)
    return call


@require_GET
def home(request):
    now = timezone.now()
    calls = [_decorate(c, now) for c in calls_by_relevance(public_calls(), now=now)]
    return render(request, "calls/home.html", {"calls": calls, "current": next((c for c in calls if c.phase != "closed"), None), "now": now})


@require_GET
def call_list(request):
    now = timezone.now()
    calls = [_decorate(c, now) for c in calls_by_relevance(public_calls(), now=now)]
    return render(request, "calls/list.html", {"calls": calls, "now": now})


@require_GET
def call_detail(request, year):
    try:
        call = public_call_detail(year)
    except Call.DoesNotExist:
        raise Http404 from None
    now = timezone.now()
    _decorate(call, now)
    my_proposal = None
    if request.user.is_authenticated:
        my_proposal = call.proposals.filter(pi=request.user).exclude(state="withdrawn").first()
    return render(request, "calls/detail.html", {"call": call, "now": now, "my_proposal": my_proposal})


@login_required
@require_GET
def unit_search(request):
    """The units matching ``?q=`` (``calls.selectors.units_search``), for anyone signed in: the options of
    the proposal editor's unit field (an htmx request, templates/proposals/_unit_field.html), or a page of its
    own, a plain GET form for a browser without JavaScript, whose results lead back to ``?next=`` (a page of
    this site: the editor) with the chosen code filled in as ``unit_code``."""
    search = units_search(request.GET.get("q", ""))
    context = {"search": search, "limit": UNIT_SEARCH_LIMIT, "min_length": UNIT_SEARCH_MIN_LENGTH}
    if request.htmx:
        return render(request, "calls/_unit_options.html", context)
    back = _local_path(request.GET.get("next", ""))
    for unit in search.units:
        unit.choose_url = _with_param(back, "unit_code", unit.code) if back else ""
    return render(request, "calls/unit_search.html", {**context, "back": back})


def _local_path(url: str) -> str:
    """``url`` if it is a path on this site, else ""."""
    return url if url.startswith("/") and url_has_allowed_host_and_scheme(url, allowed_hosts=None) else ""


def _with_param(url: str, name: str, value: str) -> str:
    parts = urlsplit(url)
    query = QueryDict(parts.query, mutable=True)
    query[name] = value
    return urlunsplit(parts._replace(query=query.urlencode()))
