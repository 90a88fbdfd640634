# The institute officer's panel pages (reviews/views/officer.py and officer_pool.py).
from django.urls import path

from ..views import officer as views
from ..views import officer_exports, officer_pool, officer_statistics

app_name = "panel"
urlpatterns = [
    path("", views.panel_list, name="list"),
    path("<int:panel_id>/", views.panel_table, name="table"),
    path("<int:panel_id>/export.xlsx", views.panel_export, name="export"),
    path("<int:panel_id>/proposals.xlsx", officer_exports.panel_proposals_export, name="proposals_export"),
    path("<int:panel_id>/reviews.xlsx", officer_exports.panel_reviews_export, name="reviews_export"),
    path("<int:panel_id>/ranking/", views.panel_rank, name="rank"),
    path("<int:panel_id>/proposals/<int:proposal_id>/", views.panel_proposal, name="proposal"),
    path("<int:panel_id>/assignments/", officer_pool.panel_assignments, name="assignments"),
    path("<int:panel_id>/assignments/add/", officer_pool.panel_assign, name="assign"),
    path("<int:panel_id>/assignments/add-many/", officer_pool.panel_assign_many, name="assign_many"),
    path("<int:panel_id>/assignments/automatic/", officer_pool.panel_auto_assign, name="auto_assign"),
    path("<int:panel_id>/assignments/automatic/progress/", officer_pool.panel_auto_assign_state, name="auto_assign_state"),
    path("<int:panel_id>/conflicts/add/", officer_pool.panel_conflict, name="conflict"),
    path("<int:panel_id>/reviewers/", officer_pool.panel_pool, name="pool"),
    path("<int:panel_id>/reviewers/statistics/", officer_statistics.panel_reviewer_statistics,
         name="reviewer_statistics"),
    path("<int:panel_id>/reviewers/add/", officer_pool.panel_reviewer_add, name="reviewer_add"),
    path("<int:panel_id>/reviewers/<int:reviewer_id>/deactivate/", officer_pool.panel_reviewer_deactivate,
         name="reviewer_deactivate"),
]
