from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "kizuna.reports"
    label = "reports"
    verbose_name = "Shared reports"
