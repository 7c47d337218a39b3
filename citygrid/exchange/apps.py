from django.apps import AppConfig


class ExchangeConfig(AppConfig):
    name = "citygrid.exchange"
    label = "exchange"
    verbose_name = "数据交换 Exchange"
    default_auto_field = "django.db.models.BigAutoField"
