"""URL map: the web UI at /, the REST API at /api/v1/, directory administration at /admin/, TAXII at /taxii2/, peer
administration at /federation/."""

from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from kizuna.api import api

admin.site.site_header = "Kizuna node administration"
admin.site.site_title = "Kizuna"
admin.site.index_title = "Directory and audit"

urlpatterns = [
    path("api/v1/", api.urls),
    # The admin signs in through the node's own login (throttling, second factor), never its own form.
    path("admin/login/", RedirectView.as_view(url="/login/", query_string=True)),
    path("admin/", admin.site.urls),
    path("reports/", include("kizuna.reports.urls")),
    path("threats/disinformation/", include("kizuna.threats.disinfo.urls")),
    path("threats/", include("kizuna.threats.geo.urls")),  # maritime/ and strategic/
    path("threats/", include("kizuna.threats.urls")),
    path("taxii2/", include("kizuna.federation.taxii.urls")),
    path("federation/", include("kizuna.federation.urls")),
    path("consultations/", include("kizuna.consultations.urls")),
    path("consultations/", include("kizuna.consultations.inbox_urls")),
    path("inbox/", include("kizuna.notifications.urls")),
    path("", include("kizuna.web.urls")),
]
