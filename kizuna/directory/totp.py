"""django-otp's TOTP devices app under a readable heading, installed in place of ``django_otp.plugins.otp_totp``.

In a module of its own: a second AppConfig subclass in ``kizuna/directory/apps.py`` made Django stop choosing
``DirectoryConfig`` for the directory app, so its ``ready()`` (nation groups, their signals) never ran."""

from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_totp.apps import DefaultConfig as OTPTOTPConfig


class TOTPDevicesConfig(OTPTOTPConfig):
    """django-otp's TOTP devices (a user's second factor), under a heading that says so in the administration rather
    than the app label "OTP_TOTP". Installed in place of ``django_otp.plugins.otp_totp``; its label stays
    ``otp_totp``, so its tables and migrations are unchanged."""

    verbose_name = _("Second factor (authenticator apps)")
