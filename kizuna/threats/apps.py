from django.apps import AppConfig


class ThreatsConfig(AppConfig):
    name = "kizuna.threats"
    label = "threats"
    verbose_name = "Threat exchange (STIX 2.1)"
