from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "citygrid.web"
    label = "web"
