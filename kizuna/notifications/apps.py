"""The notifications app: one inbox, e-mail and digests for every module (see ``kizuna.notifications``). On start
it registers its page and navigation badge with the registry."""

from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "kizuna.notifications"
    label = "notifications"
    verbose_name = "Notifications"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from kizuna.core import registry
        from kizuna.notifications import panels

        # Its page and nav badge come through the registry like every module's; it holds no labelled record type.
        registry.register(registry.Module(
            name="notifications",
            display_name="Notifications",
            urls=(registry.UrlInclude("inbox/", "kizuna.notifications.urls"),),
            nav="notifications/_nav_entry.html",
            panels=(panels.PANEL,),
        ))
