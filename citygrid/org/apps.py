from django.apps import AppConfig


class OrgConfig(AppConfig):
    name = "citygrid.org"
    label = "org"
    verbose_name = "组织 Organisation"
