from django.apps import AppConfig


class SpaceConfig(AppConfig):
    name = "citygrid.space"
    label = "space"
    verbose_name = "空间 Space"
