from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    name = "koto.privacy"
    verbose_name = "Privacy"
