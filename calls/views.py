from django.http import Http404
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from .domain import call_deadline, call_phase, calls_by_relevance
from .models import Call
from .selectors import public_call_detail, public_calls


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
