from django.apps import AppConfig


class WatchConfig(AppConfig):
    name = "kizuna.threats.watch"
    label = "threats_watch"
    verbose_name = "Threat exchange: sightings and watch filters"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from kizuna.threats.watch import services

        services.register()  # the resolver of watch notifications
