"""Open311 GeoReport v2, mounted at /open311/v2/. Each resource answers with or without a
format suffix (.json or .xml; XML when none is given, as the specification requires XML)."""

from django.urls import re_path

from citygrid.exchange import open311

FMT = r"(?:\.(?P<fmt>json|xml))?$"

app_name = "open311"
urlpatterns = [
    re_path(r"^discovery" + FMT, open311.discovery, name="discovery"),
    re_path(r"^services" + FMT, open311.services, name="services"),
    re_path(r"^services/(?P<service_code>[^/]+?)" + FMT, open311.service_definition,
            name="service"),
    re_path(r"^requests" + FMT, open311.requests_, name="requests"),
    re_path(r"^requests/(?P<service_request_id>[^/]+?)" + FMT, open311.request_detail,
            name="request"),
    re_path(r"^tokens/(?P<token>[^/]+?)" + FMT, open311.token_detail, name="token"),
    re_path(r"", open311.unknown, name="unknown"),  # last: anything else is a 404
]
