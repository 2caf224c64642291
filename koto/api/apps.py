from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "koto.api"
    label = "api"
