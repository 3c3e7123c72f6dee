from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "hfplatform.accounts"
    label = "accounts"
    verbose_name = "Accounts and roles"
