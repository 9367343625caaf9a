"""The consultations app: series, meetings, attendees, agenda items and action items."""

from django.apps import AppConfig


class ConsultationsConfig(AppConfig):
    name = "kizuna.consultations"
    label = "consultations"
    verbose_name = "Consultations"
