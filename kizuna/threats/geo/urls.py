"""URLs of the maritime and strategic views, mounted at /threats/ (placeholder until the pages land)."""

from django.urls import path
from django.views.generic import RedirectView

app_name = "geo"
urlpatterns = [
    path("maritime/", RedirectView.as_view(url="/reports/"), name="maritime"),
    path("strategic/", RedirectView.as_view(url="/reports/"), name="strategic"),
]
