"""The consultation inbox (the one inbox page, limited to consultations), the calendar settings (email mode, feed
secret) and the calendar feed at its secret URL.
Owned by the notifications helper."""

from django.urls import URLPattern, path

from kizuna.consultations import inbox_views
from kizuna.notifications import views as notification_views

app_name = "consultations_inbox"
urlpatterns: list[URLPattern] = [
    # The one inbox page (kizuna.notifications), limited to consultation notifications.
    path("inbox/", notification_views.inbox_page, {"module": "consultations", "read_url": "consultations_inbox:mark_read"},
         name="inbox"),
    path("inbox/read/", notification_views.mark_read, {"module": "consultations", "back": "consultations_inbox:inbox"},
         name="mark_read"),
    path("settings/", inbox_views.settings_page, name="settings"),
    # The feed needs no sign-in: the secret in the path is the credential (see inbox_views.feed).
    path("feed/<str:token>.ics", inbox_views.feed, name="feed"),
]
