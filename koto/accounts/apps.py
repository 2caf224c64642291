from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "koto.accounts"
    label = "accounts"
    verbose_name = _("Users and roles")

    def ready(self):
        from django.contrib import admin

        from koto.accounts import signals  # noqa: F401 - connects the receivers
        from koto.accounts.forms import AuditedAdminPasswordChangeForm

        # the admin site's own password change: audited, as the "Change password" page
        admin.site.password_change_form = AuditedAdminPasswordChangeForm
