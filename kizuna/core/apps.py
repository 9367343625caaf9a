"""The core app: Django glue around the pure label engine."""

from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "kizuna.core"
    label = "core"
    verbose_name = "Kizuna core"

    def ready(self) -> None:
        # The label engine has no Django; its messages are translated by Django's gettext when shown (issue 14).
        from django.utils.translation import gettext

        from kizuna.labels.messages import set_translator

        set_translator(gettext)
