from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PlacementConfig(AppConfig):
    name = "koto.placement"
    label = "placement"
    verbose_name = _("Municipal placement")

    def ready(self):
        from koto.placement import receivers  # noqa: F401  (connects them)
