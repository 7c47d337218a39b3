"""The project's URLs plus the collaboration pages (until citygrid/urls.py includes them)."""

from django.urls import include, path

from citygrid.urls import urlpatterns as project

urlpatterns = [path("collab/", include("citygrid.collab.urls")),
               *[p for p in project if str(p.pattern) != "collab/"]]
