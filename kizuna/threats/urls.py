"""URLs of threats (placeholder until its pages land)."""

from django.urls import path
from django.views.generic import RedirectView

app_name = "threats"
urlpatterns = [
    path("", RedirectView.as_view(url="/reports/"), name="index"),
]
