from django.contrib import admin
from django.urls import include, path

from citygrid.api.urls import api
from citygrid.web import views as web_views

handler500 = "citygrid.core.middleware.server_error"  # a lost database answers 503, not 500

urlpatterns = [
    path("healthz", web_views.healthz, name="healthz"),
    path("api/v1/", api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    path("cases/", include("citygrid.cases.urls")),
    path("assess/", include("citygrid.assess.urls")),
    path("collab/", include("citygrid.collab.urls")),
    path("open311/v2/", include("citygrid.exchange.open311_urls")),
    path("public/", include("citygrid.exchange.public_urls")),
    path("", include("citygrid.web.urls")),
]
