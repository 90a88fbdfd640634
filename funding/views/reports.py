"""Being written by a helper: these placeholders keep the URLconf importable until then."""

from django.http import HttpResponse


def pending_reports(request, *args, **kwargs):
    return HttpResponse(status=501)


def report_review(request, *args, **kwargs):
    return HttpResponse(status=501)

