# The PI's page of the review (reviews/views/pi.py), under the proposal's address: /proposals/<pk>/evaluation/.
from django.urls import path

from ..views import pi

app_name = "evaluation"
urlpatterns = [
    path("<int:pk>/evaluation/", pi.evaluation_summary, name="summary"),
]
