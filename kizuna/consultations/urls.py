"""Every consultation page under /consultations/: the calendar, series, the scheduling assistant, my actions, one
meeting's page and everything done on it (agenda, minutes, decisions, actions, RSVP, .ics download), and the printable
minutes. Two URL namespaces, as the templates and ``reverse`` know them: "consultations" for the pages and
"consultations_print" for the printable minutes and their stylesheet. (The inbox, the calendar settings and the feed
are in inbox_urls.py.)"""

from django.urls import URLPattern, URLResolver, include, path

from kizuna.consultations.views import actions, agenda, calendar, meeting, minutes, series
from kizuna.consultations.views import print as printable

pages: list[URLPattern] = [
    path("", calendar.calendar, name="calendar"),
    path("schedule/", calendar.schedule, name="schedule"),
    path("series/", series.series_list, name="series_list"),
    path("series/new/", series.series_create, name="series_create"),
    path("series/<int:pk>/", series.series_detail, name="series"),
    path("series/<int:pk>/edit/", series.series_edit, name="series_edit"),
    path("actions/", actions.my_actions, name="my_actions"),
    path("actions/<int:pk>/status/", actions.my_action_status, name="my_action_status"),
    path("meetings/new/", meeting.meeting_create, name="meeting_create"),
    path("meetings/attendee-check/", meeting.meeting_attendee_check, name="meeting_attendee_check"),
    path("meetings/<int:pk>/", meeting.meeting_detail, name="meeting"),
    path("meetings/<int:pk>/edit/", meeting.meeting_edit, name="meeting_edit"),
    path("meetings/<int:pk>/cancel/", meeting.meeting_cancel, name="meeting_cancel"),
    path("meetings/<int:pk>.ics", meeting.meeting_ics, name="meeting_ics"),
    path("meetings/<int:pk>/rsvp/", meeting.rsvp, name="rsvp"),
    path("meetings/<int:pk>/agenda/new/", agenda.agenda_add, name="agenda_add"),
    path("meetings/<int:pk>/agenda/<int:item_pk>/edit/", agenda.agenda_edit, name="agenda_edit"),
    path("meetings/<int:pk>/agenda/<int:item_pk>/delete/", agenda.agenda_delete, name="agenda_delete"),
    path("meetings/<int:pk>/agenda/<int:item_pk>/move/", agenda.agenda_move, name="agenda_move"),
    path("meetings/<int:pk>/agenda/publish/", agenda.agenda_publish, name="agenda_publish"),
    path("meetings/<int:pk>/agenda/unpublish/", agenda.agenda_unpublish, name="agenda_unpublish"),
    path("meetings/<int:pk>/minutes/new/", minutes.minutes_add, name="minutes_add"),
    path("meetings/<int:pk>/minutes/<int:part_pk>/edit/", minutes.minutes_edit, name="minutes_edit"),
    path("meetings/<int:pk>/decisions/new/", minutes.decision_add, name="decision_add"),
    path("meetings/<int:pk>/decisions/<int:part_pk>/edit/", minutes.decision_edit, name="decision_edit"),
    path("meetings/<int:pk>/minutes/publish/", minutes.minutes_publish, name="minutes_publish"),
    path("meetings/<int:pk>/minutes/unpublish/", minutes.minutes_unpublish, name="minutes_unpublish"),
    path("meetings/<int:pk>/actions/new/", actions.action_add, name="action_add"),
    path("meetings/<int:pk>/actions/<int:action_pk>/edit/", actions.action_edit, name="action_edit"),
    path("meetings/<int:pk>/actions/<int:action_pk>/status/", actions.action_status, name="action_status"),
]

printing: list[URLPattern] = [
    path("meetings/<int:pk>/minutes/print/", printable.minutes_print, name="minutes_print"),
    path("meetings/<int:pk>/minutes.pdf", printable.minutes_pdf, name="minutes_pdf"),
    path("print/minutes.css", printable.stylesheet, name="stylesheet"),
]

urlpatterns: list[URLPattern | URLResolver] = [
    path("", include((pages, "consultations"))),
    path("", include((printing, "consultations_print"))),
]
