"""The inbox, the calendar settings (email mode, feed secret) and the calendar feed at its secret URL.
Owned by the notifications helper."""

from django.urls import URLPattern, path

from kizuna.consultations import inbox_views

app_name = "consultations_inbox"
urlpatterns: list[URLPattern] = [
    path("inbox/", inbox_views.inbox_page, name="inbox"),
    path("inbox/read/", inbox_views.mark_read, name="mark_read"),
    path("settings/", inbox_views.settings_page, name="settings"),
    # The feed needs no sign-in: the secret in the path is the credential (see inbox_views.feed).
    path("feed/<str:token>.ics", inbox_views.feed, name="feed"),
]
