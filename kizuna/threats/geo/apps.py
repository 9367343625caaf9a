"""The maritime and strategic views as a Django app of their own, so that their templates, static files (the offline
base map) and Japanese catalog are found like every other app's."""

from django.apps import AppConfig


class GeoConfig(AppConfig):
    name = "kizuna.threats.geo"
    label = "threats_geo"
    verbose_name = "Threat exchange: maritime and strategic developments"
