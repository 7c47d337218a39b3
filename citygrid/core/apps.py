from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "citygrid.core"
    label = "core"
