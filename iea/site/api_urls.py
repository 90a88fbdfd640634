"""The REST API's route table: versioned under /api/v1/, its OpenAPI 3 schema at /api/schema/.

Each app declares its resources in its ``api.py`` and registers them here, in one router. This table imports
every app, so it lives in the roof; the API's framework (authentication, errors, permissions, pagination,
the schema and docs views) stays in the floor, ``iea.api``."""

from django.urls import include, path, re_path
from rest_framework.routers import DefaultRouter

from calls import api as calls_api
from funding import api as funding_api
from iea.api import audit as audit_api
from iea.api.views import DocsView, SchemaView, not_found
from proposals import api as proposals_api
from reviews import api as reviews_api


class Router(DefaultRouter):
    """The API root view, without a ``.json`` copy of every route: the API speaks JSON only, and the copies
    of the actions crashed on the ``format`` argument they passed."""

    include_format_suffixes = False


router = Router()
for module in (calls_api, proposals_api, reviews_api, funding_api, audit_api):
    module.register(router)

app_name = "api"
urlpatterns = [
    path("v1/", include(router.urls)),
    path("schema/", SchemaView.as_view(api_version="v1"), name="schema"),
    path("docs/", DocsView.as_view(), name="docs"),
    re_path(r"^(?P<rest>.*)$", not_found),
]
