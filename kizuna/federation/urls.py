"""URLs of the peer administration pages under /federation/ (admins only; the TAXII server is at /taxii2/)."""

from django.urls import include, path

from kizuna.federation import views

app_name = "federation"
urlpatterns = [
    path("", views.index, name="index"),
    path("peers/new/", views.peer_new, name="peer-new"),
    path("card.json", views.node_card, name="node-card"),
    # One peer's pages.
    path("peers/<slug:name>/", include([
        path("", views.peer_detail, name="peer"),
        path("test/", views.peer_test, name="peer-test"),
        path("sync/", views.peer_sync, name="peer-sync"),
        path("enabled/", views.peer_enabled, name="peer-enabled"),
        path("keys/", views.peer_add_key, name="peer-add-key"),
        path("token/", views.peer_new_token, name="peer-token"),
    ])),
]
