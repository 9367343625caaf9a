"""URLs of the peer administration pages under /federation/ (admins only; the TAXII server is at /taxii2/)."""

from django.urls import path

from kizuna.federation import views

app_name = "federation"
urlpatterns = [
    path("", views.index, name="index"),
    path("peers/new/", views.peer_new, name="peer-new"),
    path("peers/<slug:name>/", views.peer_detail, name="peer"),
    path("peers/<slug:name>/test/", views.peer_test, name="peer-test"),
    path("peers/<slug:name>/sync/", views.peer_sync, name="peer-sync"),
    path("peers/<slug:name>/enabled/", views.peer_enabled, name="peer-enabled"),
    path("peers/<slug:name>/keys/", views.peer_add_key, name="peer-add-key"),
    path("peers/<slug:name>/token/", views.peer_new_token, name="peer-token"),
]
