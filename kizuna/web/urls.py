from django.urls import path

from kizuna.web import views

urlpatterns = [
    path("", views.home, name="home"),
]
