from django.urls import path

from citygrid.assess import views

app_name = "assess"
urlpatterns = [
    path("", views.overview, name="overview"),
    path("report/", views.report, name="report"),
]
