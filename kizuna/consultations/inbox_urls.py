"""The inbox, the calendar settings (email mode, feed secret) and the calendar feed at its secret URL.
Owned by the notifications helper."""

from django.urls import URLPattern

app_name = "consultations_inbox"
urlpatterns: list[URLPattern] = []
