"""URLs of the pages that belong to no domain app, the generated banner stylesheet and the language switcher."""

from django.urls import include, path

from kizuna.web import language, views

app_name = "web"
urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.login_view, name="login"),
    path("login/verify/", views.login_verify, name="login-verify"),
    path("logout/", views.logout_view, name="logout"),
    # The signed-in user's own account: profile, API tokens, second factor.
    path("account/", include([
        path("", views.account, name="account"),
        path("profile/", views.account_profile, name="account-profile"),
        path("tokens/", views.token_create, name="token-create"),
        path("tokens/<int:pk>/revoke/", views.token_revoke, name="token-revoke"),
        path("two-step/", include([
            path("enrol/", views.totp_enrol, name="totp-enrol"),
            path("confirm/", views.totp_confirm, name="totp-confirm"),
            path("cancel/", views.totp_cancel, name="totp-cancel"),
            path("disable/", views.totp_disable, name="totp-disable"),
        ])),
    ])),
    path("banners.css", views.banners_stylesheet, name="banners-css"),
    # The language switcher: Django's set_language (the cookie), and the choice saved to the signed-in user.
    path("i18n/setlang/", language.set_language, name="set_language"),
]
