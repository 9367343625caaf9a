"""The disinformation views as a Django app of their own, so that their model (the pinned DISARM version),
templates and Japanese catalog are found like every other app's."""

from django.apps import AppConfig


class DisinfoConfig(AppConfig):
    name = "kizuna.threats.disinfo"
    label = "threats_disinfo"
    verbose_name = "Threat exchange: disinformation and DISARM"
    default_auto_field = "django.db.models.BigAutoField"
