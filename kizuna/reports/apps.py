"""The reports app; on start it registers the handler that turns reports received from peers into local reports."""

from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "kizuna.reports"
    label = "reports"
    verbose_name = "Shared reports"

    def ready(self) -> None:
        from kizuna.federation import inbound
        from kizuna.reports.services import do_receive
        from kizuna.reports.stix import REPORT_TYPE

        inbound.register(REPORT_TYPE, do_receive)
