"""URLs of the disinformation pages, under /threats/disinformation/."""

from django.urls import path

from kizuna.threats.disinfo import views

app_name = "disinfo"
urlpatterns = [
    path("", views.incident_list, name="index"),
    path("new/", views.incident_create, name="create"),
    path("disarm/", views.framework_page, name="framework"),
    path("<str:stix_id>/", views.incident_detail, name="detail"),
]
