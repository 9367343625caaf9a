"""URLs of the sighting button, the watch-filter pages and the inbox, mounted by ``kizuna.threats.urls`` inside the
``threats`` namespace (so their names stay ``threats:seen``, ``threats:watch``, ``threats:inbox``...)."""

from django.urls import path

from kizuna.threats.watch import views

urlpatterns = [
    path("objects/<str:stix_id>/seen/", views.seen_it_too, name="seen"),
    path("watch/", views.watch_filters, name="watch"),
    path("watch/<int:pk>/delete/", views.watch_filter_delete, name="watch_delete"),
    path("inbox/", views.inbox, name="inbox"),
    path("inbox/read/", views.inbox_mark_read, name="inbox_read"),
]
