from django.urls import include, path

from citygrid.urls import urlpatterns as site

urlpatterns = [path("assess/", include("citygrid.assess.urls")), *site]
