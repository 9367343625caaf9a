"""The inbox of every module at /inbox/ (the per-module addresses are kept by their modules' URL maps)."""

from django.urls import URLPattern, path

from kizuna.notifications import views

app_name = "notifications"
urlpatterns: list[URLPattern] = [
    path("", views.inbox_page, name="inbox"),
    path("read/", views.mark_read, name="mark_read"),
]
