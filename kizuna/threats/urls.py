"""URLs of the analyst pages under /threats/ (maritime/, strategic/ and disinformation/ are mounted by their own
packages): overview, cyber, object detail, import and its jobs, export, watch filters and the inbox."""

from django.urls import path

from kizuna.threats import views
from kizuna.threats.watch import views as watch_views

app_name = "threats"
urlpatterns = [
    path("", views.overview, name="index"),
    path("cyber/", views.cyber, name="cyber"),
    path("objects/<str:stix_id>/", views.object_detail, name="object"),
    path("objects/<str:stix_id>/seen/", views.seen_it_too, name="seen"),
    path("import/", views.import_form, name="import"),
    path("import/<int:job_id>/", views.import_job, name="import_job"),
    path("import/<int:job_id>/progress/", views.import_job_progress, name="import_progress"),
    path("export/", views.export, name="export"),
    path("watch/", watch_views.watch_filters, name="watch"),
    path("watch/<int:pk>/delete/", watch_views.watch_filter_delete, name="watch_delete"),
    path("inbox/", watch_views.inbox, name="inbox"),
    path("inbox/read/", watch_views.inbox_mark_read, name="inbox_read"),
]
