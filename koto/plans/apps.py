from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PlansConfig(AppConfig):
    name = "koto.plans"
    label = "plans"
    verbose_name = _("Integration plans")

    def ready(self):
        from koto.plans import receivers  # noqa: F401  (connects them)
