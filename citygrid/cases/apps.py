from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "citygrid.cases"
    label = "cases"
    verbose_name = "案卷 Cases"
