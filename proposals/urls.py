from django.urls import path

from . import views

app_name = "proposals"
urlpatterns = [
    path("new/<int:year>/", views.create, name="create"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/edit/", views.edit, name="edit"),
    path("<int:pk>/autosave/", views.autosave, name="autosave"),
    path("<int:pk>/team/", views.team_add, name="team_add"),
    path("<int:pk>/team/<int:member_id>/remove/", views.team_remove, name="team_remove"),
    path("<int:pk>/letter/", views.letter_upload, name="letter_upload"),
    path("<int:pk>/letters/<int:letter_id>/", views.letter_download, name="letter"),
    path("<int:pk>/invite/", views.invite, name="invite"),
    path("<int:pk>/submit/", views.submit, name="submit"),
    path("<int:pk>/withdraw/", views.withdraw, name="withdraw"),
    path("<int:pk>/information/answer/", views.information_answer, name="information_answer"),
    path("<int:pk>/restart/<int:year>/", views.restart, name="restart"),
    path("<int:pk>/receipt/<int:number>/", views.receipt, name="receipt"),
    path("<int:pk>/coapplicants/", views.coapplicant_invite, name="coapplicant_invite"),
    path("<int:pk>/coapplicants/<int:coapplicant_id>/revoke/", views.coapplicant_revoke, name="coapplicant_revoke"),
    path("coapplicants/<str:nonce>/", views.coapplicant_accept, name="coapplicant_accept"),
    path("partner/<str:token>/", views.partner, name="partner"),
    path("partner/<str:token>/letter/", views.partner_letter, name="partner_letter"),
]
