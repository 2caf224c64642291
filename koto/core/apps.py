from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "koto.core"
    label = "core"
