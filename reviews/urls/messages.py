# The conversations of #21 (reviews/views/messages.py), under the proposal's address: /proposals/<pk>/messages/.
from django.urls import path

from ..views import messages as views

app_name = "conversation"
urlpatterns = [
    path("<int:pk>/messages/<str:topic>/", views.thread, name="thread"),
    path("<int:pk>/messages/<str:topic>/attachments/<int:message_id>/", views.attachment, name="attachment"),
    path("<int:pk>/messages/<str:topic>/close/", views.close, name="close"),
    path("<int:pk>/messages/<str:topic>/reopen/", views.reopen, name="reopen"),
]
