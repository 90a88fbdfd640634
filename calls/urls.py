from django.urls import path

from . import views

app_name = "calls"
urlpatterns = [
    path("calls/", views.call_list, name="list"),
    path("calls/<int:year>/", views.call_detail, name="detail"),
    path("units/", views.unit_search, name="unit_search"),
]
