# The reviewer's pages (reviews/views/reviewer.py). ``pk`` is the assignment's.
from django.urls import path

from ..views import availability, profile, reviewer_bids
from ..views import reviewer as views

app_name = "reviewer"
urlpatterns = [
    path("", views.assignments, name="assignments"),
    path("download.zip", views.download_all, name="download_all"),
    path("<int:pk>/invitation/", views.invitation, name="invitation"),
    path("<int:pk>/accept/", views.accept, name="accept"),
    path("<int:pk>/decline/", views.decline, name="decline"),
    path("<int:pk>/conflict/", views.declare_conflict, name="declare_conflict"),
    path("<int:pk>/proposal/", views.proposal, name="proposal"),
    path("<int:pk>/letter/", views.letter, name="letter"),
    path("<int:pk>/review/", views.review, name="review"),
    path("<int:pk>/review/autosave/", views.review_autosave, name="review_autosave"),
    path("panels/<int:panel_id>/bids/", reviewer_bids.bids, name="bids"),
    path("profile/", profile.profile, name="profile"),
    path("profile/identifiers/", profile.profile_identifiers, name="profile_identifiers"),
    path("profile/expertise/<int:reviewer_id>/", profile.profile_expertise, name="profile_expertise"),
    path("profile/publications/import/", profile.profile_import, name="profile_import"),
    path("profile/publications/fetch/", profile.profile_fetch, name="profile_fetch"),
    path("profile/publications/<int:publication_id>/delete/", profile.profile_publication_delete,
         name="profile_publication_delete"),
    path("availability/", availability.availability, name="availability"),
    path("availability/<int:pk>/delete/", availability.availability_delete, name="availability_delete"),
]
