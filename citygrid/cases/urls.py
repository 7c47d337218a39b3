from django.urls import path

from citygrid.cases import views

app_name = "cases"
urlpatterns = [
    path("", views.queue, name="queue"),
    path("new/", views.report, name="report"),
    path("photos/<int:pk>/", views.photo, name="photo"),
    path("<str:number>/", views.detail, name="detail"),
    path("<str:number>/do/<str:operation>/", views.operate, name="operate"),
]
