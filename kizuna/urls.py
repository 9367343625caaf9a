"""URL map: the web UI at /, the REST API at /api/v1/."""

from django.urls import include, path

from kizuna.api import api

urlpatterns = [
    path("api/v1/", api.urls),
    path("reports/", include("kizuna.reports.urls")),
    path("", include("kizuna.web.urls")),
]
