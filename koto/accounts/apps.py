from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "koto.accounts"
    label = "accounts"
    verbose_name = _("Users and roles")

    def ready(self):
        from koto.accounts import signals  # noqa: F401 - connects the receivers
