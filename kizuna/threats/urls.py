"""URLs of the analyst pages under /threats/ (maritime/, strategic/ and disinformation/ are mounted by their own
packages): overview, cyber, object detail, import and its jobs, export, watch filters and the inbox."""

from django.urls import include, path

from kizuna.threats import views

app_name = "threats"
urlpatterns = [
    path("", views.overview, name="index"),
    path("cyber/", views.cyber, name="cyber"),
    path("objects/<str:stix_id>/", views.object_detail, name="object"),
    path("import/", views.import_form, name="import"),
    path("import/<int:job_id>/", views.import_job, name="import_job"),
    path("import/<int:job_id>/progress/", views.import_job_progress, name="import_progress"),
    path("export/", views.export, name="export"),
    # Sightings, watch filters and the inbox: the watch package's own pages, in this namespace (named by string, so
    # that the threat exchange imports nothing of the module built on it).
    path("", include("kizuna.threats.watch.urls")),
]
