from django.urls import include, path

from citygrid.web import mobile_views, screen_views, views

app_name = "web"
urlpatterns = [
    path("", views.map_page, name="map"),
    path("logged-out/", views.logged_out, name="logged_out"),
    path("live/", screen_views.live_page, name="live"),
    path("live/cases.json", screen_views.live_cases, name="live_cases"),
    path("live/token.json", screen_views.live_token, name="live_token"),
    path("screen/", screen_views.screen_page, name="screen"),
    path("screen/data.json", screen_views.screen_data, name="screen_data"),
    path("street/", screen_views.street_page, name="street"),
    path("m/", include(mobile_views.urlpatterns)),
]
