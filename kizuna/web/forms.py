"""Forms of the pages that belong to no domain app: login, second factor, account (profile, tokens, TOTP)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from kizuna.directory.choices import language_choices, timezone_choices
from kizuna.directory.models import User


class LoginForm(forms.Form):
    username = forms.CharField(
        label=_("Username"), max_length=150, widget=forms.TextInput(attrs={"autocomplete": "username", "autofocus": True})
    )
    password = forms.CharField(
        label=_("Password"), max_length=1024, strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )


class TokenCodeForm(forms.Form):
    """A six-digit code from an authenticator app."""

    code = forms.RegexField(
        label=_("Authentication code"),
        regex=r"^\s*\d{6}\s*$",
        error_messages={"invalid": _("Enter the six digits shown by your authenticator app.")},
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "pattern": r"\s*[0-9]{6}\s*", "maxlength": 8}
        ),
    )

    def clean_code(self) -> str:
        return str(self.cleaned_data["code"]).strip()


class ProfileForm(forms.ModelForm):
    language = forms.ChoiceField(label=_("Language"), choices=language_choices)
    timezone = forms.ChoiceField(label=_("Time zone"), choices=timezone_choices)

    class Meta:
        model = User
        # Names, nation, clearances and role are the directory's, set by administrators; users choose only these.
        fields = ["language", "timezone"]


class TokenForm(forms.Form):
    name = forms.CharField(
        label=_("Token name"),
        max_length=100,
        required=False,
        help_text=_("What the token is for, e.g. “MISP sync”."),
    )
