"""Being written by a helper: these placeholders keep the URLconf importable until then."""

from django.http import HttpResponse


def unit_awards(request, *args, **kwargs):
    return HttpResponse(status=501)


def unit_award(request, *args, **kwargs):
    return HttpResponse(status=501)


def spending_add(request, *args, **kwargs):
    return HttpResponse(status=501)


def tranche_received(request, *args, **kwargs):
    return HttpResponse(status=501)

