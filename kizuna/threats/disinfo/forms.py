"""Forms of the disinformation pages: the list filter (DISARM tactic or technique) and the new-incident form (label
picker, DISARM selectors when the framework is loaded, free-text ids otherwise).

Forms only shape input; the rules are in ``kizuna.threats.disinfo.services`` whose ``ServiceError`` is shown on the
field it names.
"""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from kizuna.core.errors import ServiceError
from kizuna.directory.models import User
from kizuna.threats.disinfo import disarm
from kizuna.web import shortcuts
from kizuna.web.labelpicker import LabelPickerField


def split_lines(text: str) -> list[str]:
    """One entry per line (commas also separate, except for narratives, which are sentences)."""
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def split_codes(text: str) -> list[str]:
    return [part for part in re.split(r"[\s,;]+", text or "") if part]


def apply_service_error(form: forms.Form, error: ServiceError) -> None:
    shortcuts.apply_service_error(form, error, {"tactics": "tactic_ids", "techniques": "technique_ids"})


def _technique_choices(framework: disarm.Framework) -> list[tuple[str, list[tuple[str, str]]]]:
    groups = []
    for tactic in framework.tactics:
        items = [(t.external_id, f"{t.external_id} {t.name}") for t in framework.techniques_of(tactic.external_id)]
        if items:
            groups.append((f"{tactic.external_id} {tactic.name}", items))
    return groups


class IncidentFilterForm(forms.Form):
    """The list's GET form; free text ids are checked for their form (DISARM may not be loaded)."""

    tactic = forms.CharField(label=_("DISARM tactic"), required=False, max_length=8)
    technique = forms.CharField(label=_("DISARM technique"), required=False, max_length=12)

    def __init__(self, *args: Any, framework: disarm.Framework | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if framework is None:
            return
        # An incident may carry an id this version does not hold (another version, a partner's tool): its tag links
        # here, so a well-formed id is offered as a choice of its own rather than refused.
        known = {t.external_id for t in framework.tactics} | {t.external_id for t in framework.techniques}
        data = dict(self.data.items()) if self.is_bound else {}
        extra: dict[str, list[tuple[str, str]]] = {"tactic": [], "technique": []}
        for name, pattern in (("tactic", disarm.TACTIC_ID), ("technique", disarm.TECHNIQUE_ID)):
            value = str(data.get(name) or "").strip().upper()
            if value and pattern.match(value):
                data[name] = value
                if value not in known:
                    extra[name].append((value, value))
        if self.is_bound:
            self.data = data
        self.fields["tactic"] = forms.ChoiceField(
            label=_("DISARM tactic"), required=False,
            choices=[("", _("Any tactic")), *[(t.external_id, f"{t.external_id} {t.name}") for t in framework.tactics],
                     *extra["tactic"]])
        self.fields["technique"] = forms.ChoiceField(
            label=_("DISARM technique"), required=False,
            choices=[("", _("Any technique")), *_technique_choices(framework), *extra["technique"]])

    def clean_tactic(self) -> str:
        value = (self.cleaned_data.get("tactic") or "").strip().upper()
        if value and not disarm.TACTIC_ID.match(value):
            raise forms.ValidationError(_("Write a tactic like TA06."))
        return value

    def clean_technique(self) -> str:
        value = (self.cleaned_data.get("technique") or "").strip().upper()
        if value and not disarm.TECHNIQUE_ID.match(value):
            raise forms.ValidationError(_("Write a technique like T0002 or T0015.001."))
        return value


class IncidentForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=300)
    description = forms.CharField(label=_("Description"), required=False, max_length=20000,
                                  widget=forms.Textarea(attrs={"rows": 5}))
    narratives = forms.CharField(label=_("Narratives"), required=False, widget=forms.Textarea(attrs={"rows": 3}),
                                 help_text=_("One narrative per line."))
    platforms = forms.CharField(label=_("Platforms"), required=False, max_length=2000,
                                help_text=_("One per line, e.g. X, Telegram, TikTok, a website."),
                                widget=forms.Textarea(attrs={"rows": 2}))
    languages = forms.CharField(label=_("Languages"), required=False, max_length=500,
                                help_text=_("Language codes separated by commas, e.g. ja, ko, en, zh-Hant."))
    target_audiences = forms.CharField(label=_("Target audiences"), required=False,
                                       widget=forms.Textarea(attrs={"rows": 2}), help_text=_("One audience per line."))
    first_seen = forms.DateTimeField(label=_("First seen (UTC)"), required=False,
                                     widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    last_seen = forms.DateTimeField(label=_("Last seen (UTC)"), required=False,
                                    widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    tactic_ids = forms.CharField(label=_("DISARM tactics"), required=False, max_length=500,
                                 help_text=_("Tactic ids separated by commas, e.g. TA06, TA14."))
    technique_ids = forms.CharField(label=_("DISARM techniques"), required=False, max_length=2000,
                                    help_text=_("Technique ids separated by commas, e.g. T0002, T0015.001."))
    label = LabelPickerField(label=_("Label"))

    def __init__(self, *args: Any, user: User, framework: disarm.Framework | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["label"]
        assert isinstance(field, LabelPickerField)
        field.set_user(user)
        self.framework = framework
        if framework is not None:
            # DISARM loaded: pick from the pinned version (ids typed by hand still work, e.g. from a partner's note).
            self.fields["tactics"] = forms.MultipleChoiceField(
                label=_("DISARM tactics"), required=False,
                choices=[(t.external_id, f"{t.phase} · {t.external_id} {t.name}") for t in framework.tactics],
                widget=forms.SelectMultiple(attrs={"size": 8}))
            self.fields["techniques"] = forms.MultipleChoiceField(
                label=_("DISARM techniques"), required=False, choices=_technique_choices(framework),
                widget=forms.SelectMultiple(attrs={"size": 12}))
            del self.fields["tactic_ids"]
            del self.fields["technique_ids"]

    def selected_tactics(self) -> list[str]:
        data = self.cleaned_data
        return list(data.get("tactics") or []) if self.framework is not None else split_codes(data.get("tactic_ids", ""))

    def selected_techniques(self) -> list[str]:
        data = self.cleaned_data
        if self.framework is not None:
            return list(data.get("techniques") or [])
        return split_codes(data.get("technique_ids", ""))
