"""The notifications app: one inbox, e-mail and digests for every module (see ``kizuna.notifications``). On start
it registers its page, navigation badge, dashboard panel and account-page section with the registry, the resolver of
digest entries, and the periodic job that sends digests."""

from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "kizuna.notifications"
    label = "notifications"
    verbose_name = "Notifications"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from kizuna.core import registry
        from kizuna.notifications import digests, panels, tasks

        digests.register()  # the inbox entries of digests
        tasks.register()  # the daily and weekly digests: a periodic job of `kizuna worker`

        # Its page and nav badge come through the registry like every module's; it holds no labelled record type.
        registry.register(registry.Module(
            name="notifications",
            display_name="Notifications",
            urls=(registry.UrlInclude("inbox/", "kizuna.notifications.urls"),),
            nav="notifications/_nav_entry.html",
            panels=(panels.PANEL,),
            account="notifications/_account_section.html",  # the e-mail and digest choice
        ))
