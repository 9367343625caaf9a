"""URLs of the best-practice pages, under /practices/ (registered with the registry in ``apps.ready``)."""

from django.urls import path

from kizuna.practices import views

app_name = "practices"
urlpatterns = [
    path("", views.practice_list, name="list"),
    path("new/", views.practice_create, name="create"),
    path("<int:pk>/", views.practice_detail, name="detail"),
]
