# The institute officer's panel pages (reviews/views/officer.py).
from django.urls import path

from .views import officer as views

app_name = "panel"
urlpatterns: list = []
