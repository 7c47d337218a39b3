from django.urls import path

from citygrid.web import views

app_name = "web"
urlpatterns = [
    path("", views.map_page, name="map"),
    path("logged-out/", views.logged_out, name="logged_out"),
]
