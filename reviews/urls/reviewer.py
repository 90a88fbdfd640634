# The reviewer's pages (reviews/views/reviewer.py). ``pk`` is the assignment's.
from django.urls import path

from ..views import reviewer as views

app_name = "reviewer"
urlpatterns = [
    path("", views.assignments, name="assignments"),
    path("<int:pk>/invitation/", views.invitation, name="invitation"),
    path("<int:pk>/accept/", views.accept, name="accept"),
    path("<int:pk>/decline/", views.decline, name="decline"),
    path("<int:pk>/conflict/", views.declare_conflict, name="declare_conflict"),
    path("<int:pk>/proposal/", views.proposal, name="proposal"),
    path("<int:pk>/letter/", views.letter, name="letter"),
    path("<int:pk>/review/", views.review, name="review"),
    path("<int:pk>/review/autosave/", views.review_autosave, name="review_autosave"),
]
