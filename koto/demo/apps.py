from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "koto.demo"
    label = "demo"
