from django.urls import path

from . import views

app_name = "privacy"

urlpatterns = [
    path("", views.page, name="page"),
    path("export/", views.export, name="export"),
    path("erasure/", views.erasure, name="erasure"),
]
