"""URLs of the TAXII 2.1 server, mounted at /taxii2/."""

from django.urls import path

from kizuna.federation.taxii import views

urlpatterns = [
    path("", views.discovery, name="taxii-discovery"),
    path("<str:api_root>/", views.api_root, name="taxii-api-root"),
    path("<str:api_root>/collections/", views.collections, name="taxii-collections"),
    path("<str:api_root>/collections/<str:collection_id>/", views.collection, name="taxii-collection"),
    path("<str:api_root>/collections/<str:collection_id>/objects/", views.objects, name="taxii-objects"),
    path("<str:api_root>/collections/<str:collection_id>/objects/<str:object_id>/", views.object_by_id,
         name="taxii-object"),
    path("<str:api_root>/collections/<str:collection_id>/objects/<str:object_id>/versions/", views.versions,
         name="taxii-versions"),
    path("<str:api_root>/collections/<str:collection_id>/manifest/", views.manifest, name="taxii-manifest"),
    path("<str:api_root>/status/<str:status_id>/", views.status, name="taxii-status"),
]
