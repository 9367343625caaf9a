"""The watch app (sightings, watch filters, inbox); on start it hooks itself into the threat exchange
(``kizuna.threats.hooks``), which does not import it."""

from django.apps import AppConfig


class WatchConfig(AppConfig):
    name = "kizuna.threats.watch"
    label = "threats_watch"
    verbose_name = "Threat exchange: sightings and watch filters"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from kizuna.core import registry
        from kizuna.threats import hooks
        from kizuna.threats.watch import panels, services, views

        services.register()  # the resolver of watch notifications
        registry.register_panel(panels.PANEL)  # not a module of the registry of its own: its panel alone
        hooks.on_objects_stored.append(services.notify_new_objects)
        hooks.object_page_context.append(views.object_page_context)
