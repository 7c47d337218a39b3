from django.apps import AppConfig


class AssessConfig(AppConfig):
    name = "citygrid.assess"
    label = "assess"
    verbose_name = "考评 Assessment"
