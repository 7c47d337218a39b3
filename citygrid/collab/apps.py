from django.apps import AppConfig


class CollabConfig(AppConfig):
    name = "citygrid.collab"
    label = "collab"
    verbose_name = "协同平台 Collaboration"
