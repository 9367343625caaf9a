"""The consultations app: series, meetings, attendees, agenda items, minutes, decisions and action items. On start it
registers the handler that turns consultation records received from peers into local read-only records."""

from django.apps import AppConfig


class ConsultationsConfig(AppConfig):
    name = "kizuna.consultations"
    label = "consultations"
    verbose_name = "Consultations"

    def ready(self) -> None:
        from kizuna.consultations.services.sharing import do_receive
        from kizuna.consultations.stix import TYPES
        from kizuna.federation import inbound

        for stix_type in TYPES:
            inbound.register(stix_type, do_receive)
        from kizuna.consultations import notify

        notify.register()  # the resolver of consultation notifications
