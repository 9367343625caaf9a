"""The forms of the glossary pages: the search (text and area) and a term (four languages, variants one per line, area,
note, the label picker). Forms only shape input; every rule about labels and rights is enforced by
``kizuna.glossary.services``."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from kizuna.directory.models import User
from kizuna.glossary.models import AREA_CHOICES, LANGUAGES, Term
from kizuna.web.labelpicker import LabelPickerField

VARIANT_HELP = _("Other spellings, synonyms and abbreviations, one per line.")


def _variants_field(label: Any) -> forms.CharField:
    return forms.CharField(label=label, required=False, help_text=VARIANT_HELP,
                           widget=forms.Textarea(attrs={"rows": 2}))


class TermForm(forms.Form):
    en = forms.CharField(label=_("English"), max_length=200)
    variants_en = _variants_field(_("English variants"))
    fr = forms.CharField(label=_("French"), max_length=200, required=False)
    variants_fr = _variants_field(_("French variants"))
    ja = forms.CharField(label=_("Japanese"), max_length=200, required=False)
    variants_ja = _variants_field(_("Japanese variants"))
    ko = forms.CharField(label=_("Korean"), max_length=200, required=False)
    variants_ko = _variants_field(_("Korean variants"))
    area = forms.ChoiceField(label=_("Area"), choices=AREA_CHOICES)
    note = forms.CharField(label=_("Note"), required=False, max_length=4000,
                           widget=forms.Textarea(attrs={"rows": 3}),
                           help_text=_("Usage, context or the source of the translation."))
    label = LabelPickerField(label=_("Label"))

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["label"]
        assert isinstance(field, LabelPickerField)
        field.set_user(user)

    def variants(self) -> dict[str, list[str]]:
        """The cleaned variant boxes as ``{"en": [...], ...}``."""
        return {code: [line.strip() for line in self.cleaned_data[f"variants_{code}"].splitlines() if line.strip()]
                for code in LANGUAGES}


def initial_for(term: Term, label: Any) -> dict[str, Any]:
    initial: dict[str, Any] = {code: getattr(term, code) for code in LANGUAGES}
    initial.update({f"variants_{code}": "\n".join(term.variants_of(code)) for code in LANGUAGES})
    initial.update({"area": term.area, "note": term.note, "label": label})
    return initial


class TermSearchForm(forms.Form):
    q = forms.CharField(label=_("Search in any language"), required=False, max_length=200)
    area = forms.ChoiceField(label=_("Area"), required=False, choices=[("", _("All areas")), *AREA_CHOICES])
    cursor = forms.CharField(required=False, widget=forms.HiddenInput, max_length=200)
