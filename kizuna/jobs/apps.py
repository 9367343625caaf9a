"""The job queue app: its lease and periodic-schedule tables, and ``kizuna worker``."""

from django.apps import AppConfig


class JobsConfig(AppConfig):
    name = "kizuna.jobs"
    label = "jobs"
    verbose_name = "Background jobs"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from kizuna.jobs import tasks

        tasks.register()
