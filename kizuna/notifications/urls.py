"""The inbox of every module at /inbox/, the page of one digest, and the e-mail choice posted from the account page
(the per-module addresses of the inbox are kept by their modules' URL maps)."""

from django.urls import URLPattern, path

from kizuna.notifications import views

app_name = "notifications"
urlpatterns: list[URLPattern] = [
    path("", views.inbox_page, name="inbox"),
    path("read/", views.mark_read, name="mark_read"),
    path("digest/<int:pk>/", views.digest_page, name="digest"),
    path("email/", views.email_settings, name="email_settings"),
]
