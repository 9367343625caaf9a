"""Printable minutes: the HTML print view and the PDF. Owned by the printing helper."""

from django.urls import URLPattern

app_name = "consultations_print"
urlpatterns: list[URLPattern] = []
