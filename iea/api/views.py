"""The API's own pages: its documentation (Swagger UI, for signed-in users) and the JSON 404 of any path
under /api/ that names nothing."""

import threading

from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

_schema_lock = threading.Lock()


class SchemaView(SpectacularAPIView):
    """The OpenAPI schema, built by one thread at a time: drf-spectacular loads its extensions lazily on the
    first build, and two threads doing it at once made one of them fail (500, found by the crawl)."""

    def _get_schema_response(self, request):
        # Not ``get``: drf-spectacular's own decoration of ``get`` keeps this view out of the schema.
        with _schema_lock:
            return super()._get_schema_response(request)


class DocsView(LoginRequiredMixin, SpectacularSwaggerSplitView):
    """Swagger UI from the app's own static files; its settings come as a script file, never inline."""

    template_name = "api/docs.html"
    url_name = "api:schema"
    title = "IEA API"


@csrf_exempt  # a script's DELETE to a wrong path gets the JSON 404, not the CSRF page
def not_found(request, rest=""):
    return JsonResponse({"error": {"status": 404, "code": "not_found", "message": _("Not found.")}}, status=404)
