"""Consultation pages: calendar (month, week, list), series, scheduling assistant, my actions; one meeting's pages
come from meeting_urls.py. Owned by the UI helper."""

from django.urls import URLPattern, URLResolver, include, path

from kizuna.consultations import views

app_name = "consultations"
urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.calendar, name="calendar"),
    path("series/", views.series_list, name="series_list"),
    path("series/new/", views.series_create, name="series_create"),
    path("series/<int:pk>/", views.series_detail, name="series"),
    path("series/<int:pk>/edit/", views.series_edit, name="series_edit"),
    path("schedule/", views.schedule, name="schedule"),
    path("actions/", views.my_actions, name="my_actions"),
    path("actions/<int:pk>/status/", views.action_status, name="my_action_status"),
    path("meetings/", include("kizuna.consultations.meeting_urls")),
]
