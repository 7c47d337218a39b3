"""Public pages, mounted at /public/."""

from django.urls import path

from citygrid.exchange import views

app_name = "public"
urlpatterns = [
    path("", views.report, name="report"),
    path("track/", views.track_lookup, name="track_lookup"),
    path("track/<str:code>/", views.track, name="track"),
    path("map/", views.problem_map, name="map"),
    path("map/problems.json", views.problem_map_data, name="map_data"),
]
