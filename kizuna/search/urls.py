"""The search page: /search/?q=..."""

from django.urls import URLPattern, path

from kizuna.search import views

app_name = "search"

urlpatterns: list[URLPattern] = [
    path("", views.search_page, name="search"),
]
