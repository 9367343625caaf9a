"""URLs of the glossary pages, under /glossary/ (registered with the registry in ``apps.ready``)."""

from django.urls import path

from kizuna.glossary import views

app_name = "glossary"
urlpatterns = [
    path("", views.term_list, name="list"),
    path("new/", views.term_create, name="create"),
    path("<int:pk>/", views.term_detail, name="detail"),
    path("<int:pk>/edit/", views.term_edit, name="edit"),
    path("<int:pk>/delete/", views.term_delete, name="delete"),
]
