from django.contrib import admin
from django.urls import include, path

from citygrid.api.urls import api
from citygrid.web import views as web_views

urlpatterns = [
    path("healthz", web_views.healthz, name="healthz"),
    path("api/v1/", api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    path("", include("citygrid.web.urls")),
]
