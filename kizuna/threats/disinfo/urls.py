"""URLs of threats/disinfo (placeholder until its pages land)."""

from django.urls import path
from django.views.generic import RedirectView

app_name = "disinfo"
urlpatterns = [
    path("", RedirectView.as_view(url="/reports/"), name="index"),
]
