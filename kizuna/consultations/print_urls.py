"""Printable minutes: the HTML print view and the PDF of one meeting's minutes (and the print view's stylesheet),
under /consultations/ in the "consultations_print" namespace."""

from django.urls import URLPattern, path

from kizuna.consultations import print_views as views

app_name = "consultations_print"
urlpatterns: list[URLPattern] = [
    path("meetings/<int:pk>/minutes/print/", views.minutes_print, name="minutes_print"),
    path("meetings/<int:pk>/minutes.pdf", views.minutes_pdf, name="minutes_pdf"),
    path("print/minutes.css", views.stylesheet, name="stylesheet"),
]
