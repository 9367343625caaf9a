"""The demo scenario as a Django app of its own, so that the ``demo`` management command lives beside it (core
imports no domain app). Listed after the domain apps: it loads their demo data through the registry."""

from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "kizuna.demo"
    label = "demo"
    verbose_name = "Demo scenario"
