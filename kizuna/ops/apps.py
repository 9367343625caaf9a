"""Operations: backup and restore of a whole node (database, keys, attachments). No models, no pages."""

from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "kizuna.ops"
    label = "ops"
    verbose_name = "Operations (backup and restore)"
