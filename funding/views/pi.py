"""Being written by a helper: these placeholders keep the URLconf importable until then."""

from django.http import HttpResponse


def award_list(request, *args, **kwargs):
    return HttpResponse(status=501)


def award_detail(request, *args, **kwargs):
    return HttpResponse(status=501)


def award_letter(request, *args, **kwargs):
    return HttpResponse(status=501)


def report_edit(request, *args, **kwargs):
    return HttpResponse(status=501)


def report_pdf(request, *args, **kwargs):
    return HttpResponse(status=501)


def cosign(request, *args, **kwargs):
    return HttpResponse(status=501)

