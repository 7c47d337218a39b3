from django.urls import path

from citygrid.collab import views

app_name = "collab"
urlpatterns = [
    path("", views.desk, name="desk"),
    path("inbox/", views.inbox, name="inbox"),
    path("presence/", views.presence, name="presence"),
    path("dossiers/<int:pk>/", views.dossier, name="dossier"),
    path("dossiers/<int:pk>/<str:what>/", views.dossier_do, name="dossier_do"),
    path("invitations/<int:pk>/answer/", views.answer, name="answer"),
    path("meetings/", views.meetings, name="meetings"),
    path("meetings/<int:pk>/", views.meeting, name="meeting"),
]
