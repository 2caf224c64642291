from django.apps import AppConfig


class AccountsCliConfig(AppConfig):
    name = "koto.accounts.cli"
    label = "accounts_cli"
    verbose_name = "Koto: replaced management commands"
