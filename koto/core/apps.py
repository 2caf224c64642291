from django.apps import AppConfig, apps


class CoreConfig(AppConfig):
    name = "koto.core"
    label = "core"

    def ready(self) -> None:
        from koto.core.choices import use_stored_choice_labels

        use_stored_choice_labels(m for m in apps.get_models() if m.__module__.startswith("koto."))
