"""The form of the best-practice pages: title, body and the label picker. Forms only shape input; every rule about
labels and rights is enforced by ``kizuna.practices.services``."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from kizuna.directory.models import User
from kizuna.web.labelpicker import LabelPickerField


class PracticeForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=300)
    body = forms.CharField(
        label=_("Body (Markdown)"), required=False, widget=forms.Textarea(attrs={"rows": 14, "class": "markdown"}),
        help_text=_("Markdown: **bold**, *italic*, lists, links, tables. HTML is not allowed and is removed."),
    )
    label = LabelPickerField(label=_("Label"))

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["label"]
        assert isinstance(field, LabelPickerField)
        field.set_user(user)


class PracticeSearchForm(forms.Form):
    q = forms.CharField(label=_("Search title and body"), required=False, max_length=200)
    cursor = forms.CharField(required=False, widget=forms.HiddenInput, max_length=200)
