"""The REST API: versioned under /api/v1/, its OpenAPI 3 schema at /api/schema/."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView
from rest_framework.routers import DefaultRouter

from calls import api as calls_api

router = DefaultRouter()
router.register("calls", calls_api.CallViewSet, basename="call")
router.register("institutes", calls_api.InstituteViewSet, basename="institute")
router.register("units", calls_api.UnitViewSet, basename="unit")

app_name = "api"
urlpatterns = [
    path("v1/", include(router.urls)),
    path("schema/", SpectacularAPIView.as_view(api_version="v1"), name="schema"),
]
