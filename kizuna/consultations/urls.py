"""Consultation pages: calendar (month, week, list), series, scheduling assistant, my actions; one meeting's pages
come from meeting_urls.py. Owned by the UI helper."""

from django.urls import URLPattern, URLResolver, include, path

app_name = "consultations"
urlpatterns: list[URLPattern | URLResolver] = [
    path("meetings/", include("kizuna.consultations.meeting_urls")),
]
