"""URLs of one meeting's page and everything done on it (agenda, minutes, decisions, actions, RSVP, .ics download),
included by urls.py under /consultations/meetings/ in the "consultations" namespace. Owned by the meeting-page helper.

The printable minutes (<pk>/minutes/print/ and <pk>/minutes.pdf) belong to print_urls.py; nothing here may shadow
them."""

from django.urls import URLPattern, path

from kizuna.consultations import meeting_views as views

urlpatterns: list[URLPattern] = [
    path("new/", views.meeting_create, name="meeting_create"),
    path("<int:pk>/", views.meeting_detail, name="meeting"),
    path("<int:pk>/edit/", views.meeting_edit, name="meeting_edit"),
    path("<int:pk>/cancel/", views.meeting_cancel, name="meeting_cancel"),
    path("<int:pk>.ics", views.meeting_ics, name="meeting_ics"),
    path("<int:pk>/rsvp/", views.rsvp, name="rsvp"),
    path("<int:pk>/agenda/new/", views.agenda_add, name="agenda_add"),
    path("<int:pk>/agenda/<int:item_pk>/edit/", views.agenda_edit, name="agenda_edit"),
    path("<int:pk>/agenda/<int:item_pk>/delete/", views.agenda_delete, name="agenda_delete"),
    path("<int:pk>/agenda/<int:item_pk>/move/", views.agenda_move, name="agenda_move"),
    path("<int:pk>/agenda/publish/", views.agenda_publish, name="agenda_publish"),
    path("<int:pk>/agenda/unpublish/", views.agenda_unpublish, name="agenda_unpublish"),
    path("<int:pk>/minutes/new/", views.minutes_add, name="minutes_add"),
    path("<int:pk>/minutes/<int:part_pk>/edit/", views.minutes_edit, name="minutes_edit"),
    path("<int:pk>/decisions/new/", views.decision_add, name="decision_add"),
    path("<int:pk>/decisions/<int:part_pk>/edit/", views.decision_edit, name="decision_edit"),
    path("<int:pk>/minutes/publish/", views.minutes_publish, name="minutes_publish"),
    path("<int:pk>/minutes/unpublish/", views.minutes_unpublish, name="minutes_unpublish"),
    path("<int:pk>/actions/new/", views.action_add, name="action_add"),
    path("<int:pk>/actions/<int:action_pk>/edit/", views.action_edit, name="action_edit"),
    path("<int:pk>/actions/<int:action_pk>/status/", views.action_status, name="action_status"),
]
