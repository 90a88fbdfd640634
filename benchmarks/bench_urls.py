"""The app's URLs, plus the bare views under /bench/bare/ (benchmarks only: never in iea.urls)."""

from django.urls import path

from iea.urls import urlpatterns as app_urlpatterns

from . import bare_views

urlpatterns = [
    path("bench/bare/<int:pk>/", bare_views.detail, name="bare_detail"),
    path("bench/bare/<int:pk>/edit/", bare_views.edit, name="bare_edit"),
    path("bench/bare/<int:pk>/save/", bare_views.save, name="bare_save"),
    path("bench/bare/<int:pk>/letter/", bare_views.letter, name="bare_letter"),
    path("bench/bare/<int:pk>/submit/", bare_views.submit, name="bare_submit"),
    path("bench/bare/panel/<int:pk>/aggregate/", bare_views.panel_floor_aggregate, name="bare_panel_aggregate"),
    path("bench/bare/panel/<int:pk>/kept/", bare_views.panel_floor_kept, name="bare_panel_kept"),
    *app_urlpatterns,
]
