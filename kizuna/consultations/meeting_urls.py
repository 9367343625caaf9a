"""URLs of one meeting's page and everything done on it (agenda, minutes, decisions, actions, RSVP, .ics download),
included by urls.py under /consultations/meetings/ in the "consultations" namespace. Owned by the meeting-page helper."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
