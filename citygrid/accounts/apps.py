from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "citygrid.accounts"
    label = "accounts"
    verbose_name = "账户 Accounts"
