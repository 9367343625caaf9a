from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "kizuna.web"
    label = "web"
    verbose_name = "Web UI"
