from django.apps import AppConfig


class InsightsConfig(AppConfig):
    name = "koto.insights"
    verbose_name = "Insights"
