from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "citygrid.catalog"
    label = "catalog"
    verbose_name = "分类标准 Catalog"
