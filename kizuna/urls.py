"""URL map: the REST API at /api/v1/, directory administration at /admin/, the pages of every module registered
with the registry of shareable types (reports at /reports/, TAXII at /taxii2/, peer administration at
/federation/ ...), and the web UI's own pages at /."""

from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from kizuna.api import api
from kizuna.core import registry

admin.site.site_header = "Kizuna node administration"
admin.site.site_title = "Kizuna"
admin.site.index_title = "Directory and audit"

urlpatterns = [
    path("api/v1/", api.urls),
    # The admin signs in through the node's own login (throttling, second factor), never its own form.
    path("admin/login/", RedirectView.as_view(url="/login/", query_string=True)),
    path("admin/", admin.site.urls),
    *(path(entry.prefix, include(entry.module)) for module in registry.modules() for entry in module.urls),
    path("", include("kizuna.ops.urls")),  # /healthz, /readyz, /metrics (docs/operations.md)
    path("", include("kizuna.web.urls")),
]
