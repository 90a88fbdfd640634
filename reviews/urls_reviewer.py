# The reviewer's pages (reviews/views/reviewer.py).
from django.urls import path

from .views import reviewer as views

app_name = "reviewer"
urlpatterns: list = []
