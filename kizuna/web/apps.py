from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "kizuna.web"
    label = "web"
    verbose_name = "Web UI"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from kizuna.web.language import on_login

        # The session starts in the user's saved language (issue 14; kizuna/web/language.py).
        user_logged_in.connect(on_login, dispatch_uid="kizuna-login-language")
