"""URLs of the maritime and strategic pages, mounted at /threats/ (so: /threats/maritime/..., /threats/strategic/...)."""

from django.urls import path

from kizuna.threats.geo import views

app_name = "geo"
urlpatterns = [
    path("maritime/", views.maritime_list, name="maritime"),
    path("maritime/new/", views.maritime_create, name="maritime_create"),
    path("maritime/<str:stix_id>/", views.maritime_detail, name="maritime_detail"),
    path("strategic/", views.strategic, name="strategic"),
    path("strategic/sites/new/", views.site_create, name="site_create"),
    path("strategic/events/new/", views.event_create, name="event_create"),
    path("strategic/<str:stix_id>/", views.strategic_detail, name="strategic_detail"),
]
