"""Consultation pages: calendar (month, week, list), series, meetings, agenda, minutes, actions, my actions.
Owned by the UI helper."""

from django.urls import URLPattern

app_name = "consultations"
urlpatterns: list[URLPattern] = []
