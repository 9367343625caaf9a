"""The notifications app: one inbox, e-mail and digests for every module (see ``kizuna.notifications``)."""

from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "kizuna.notifications"
    label = "notifications"
    verbose_name = "Notifications"
    default_auto_field = "django.db.models.BigAutoField"
