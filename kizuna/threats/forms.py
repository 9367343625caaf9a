"""Forms of the threat pages: the cyber list's tabs and search, import (with the label picker), export, watch filters.

Forms only shape input; the rules about labels and rights live in the services and queries they feed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import forms
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from kizuna.core.access import registry
from kizuna.directory.models import User
from kizuna.labels import TLP
from kizuna.web.labelpicker import LabelPickerField

# STIX 2.1 cyber-observable types (SCOs).
OBSERVABLE_TYPES = (
    "artifact", "autonomous-system", "directory", "domain-name", "email-addr", "email-message", "file", "ipv4-addr",
    "ipv6-addr", "mac-addr", "mutex", "network-traffic", "process", "software", "url", "user-account",
    "windows-registry-key", "x509-certificate",
)
# Every STIX 2.1 type a watch filter may name (domain objects, relationship objects, observables).
DOMAIN_TYPES = (
    "attack-pattern", "campaign", "course-of-action", "grouping", "identity", "incident", "indicator",
    "infrastructure", "intrusion-set", "location", "malware", "malware-analysis", "note", "observed-data", "opinion",
    "report", "threat-actor", "tool", "vulnerability",
)
ALL_TYPES = (*DOMAIN_TYPES, "relationship", "sighting", *OBSERVABLE_TYPES)


@dataclass(frozen=True)
class Tab:
    key: str
    title: Promise
    types: tuple[str, ...]


CYBER_TABS: tuple[Tab, ...] = (
    Tab("indicators", _("Indicators"), ("indicator",)),
    Tab("observables", _("Observables"), OBSERVABLE_TYPES),
    Tab("malware", _("Malware"), ("malware",)),
    Tab("threat-actors", _("Threat actors"), ("threat-actor",)),
    Tab("intrusion-sets", _("Intrusion sets"), ("intrusion-set",)),
    Tab("vulnerabilities", _("Vulnerabilities"), ("vulnerability",)),
    Tab("attack-patterns", _("Attack patterns"), ("attack-pattern",)),
    Tab("sightings", _("Sightings"), ("sighting",)),
)
ALL_TAB = "all"
CYBER_TYPES: tuple[str, ...] = tuple(t for tab in CYBER_TABS for t in tab.types)
TABS_BY_KEY: dict[str, Tab] = {tab.key: tab for tab in CYBER_TABS}


class CyberFilterForm(forms.Form):
    tab = forms.ChoiceField(label=_("Show"), required=False,
                            choices=[(ALL_TAB, _("All cyber objects")), *((t.key, t.title) for t in CYBER_TABS)])
    q = forms.CharField(label=_("Search"), required=False, max_length=512,
                        help_text=_("Searches name, description, value, domain, address or network, hash: part of "
                                    "a name or value (at least three letters or digits), a domain (finds its parent "
                                    "domains too), an IP address or CIDR network (finds the networks that contain "
                                    "it and what lies inside it), or any hash of a file."),
                        widget=forms.TextInput(attrs={"type": "search", "placeholder": "58.246.1.2"}))
    cursor = forms.CharField(required=False, widget=forms.HiddenInput, max_length=200)


FORMAT_CHOICES = [("stix", _("STIX 2.1 bundle (JSON)")), ("misp", _("MISP event (JSON core format)"))]


class ImportForm(forms.Form):
    bundle = forms.FileField(label=_("File"), help_text=_("A STIX 2.1 bundle (or a single STIX object, or a JSON array of "
                                                     "objects), or a MISP event exported as JSON."))
    fmt = forms.ChoiceField(label=_("Format"), choices=FORMAT_CHOICES, initial="stix", widget=forms.RadioSelect)
    label = LabelPickerField(label=_("Default label"))

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["label"]
        assert isinstance(field, LabelPickerField)
        field.set_user(user)


class ExportForm(forms.Form):
    types = forms.MultipleChoiceField(label=_("Object types"), required=False, widget=forms.CheckboxSelectMultiple,
                                      help_text=_("None ticked: all the threat information you may see."))
    include_records = forms.BooleanField(
        label=_("Also Kizuna's own records"), required=False,
        help_text=_("Reports, best practice and consultation records travel in the store for federation; they are "
                    "exported only when this is ticked."))

    def __init__(self, *args: Any, types: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Only types among what the reader may see are offered: the list is itself a facet of visible objects.
        self.fields["types"].choices = [(t, t) for t in types]  # type: ignore[attr-defined]


def _category_values(name: str) -> list[tuple[str, str]]:
    policy = registry().get("NATO")
    if policy is None or name not in policy.categories:
        return []
    return [(v, v) for v in policy.categories[name].values]


class WatchFilterForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    types = forms.MultipleChoiceField(label=_("Object types"), required=False, widget=forms.CheckboxSelectMultiple,
                                      choices=[(t, t) for t in ALL_TYPES], help_text=_("None ticked: any type."))
    value_contains = forms.CharField(label=_("Value contains"), required=False, max_length=200,
                                     help_text=_("Part of an IP address, domain, URL, hash, e-mail or name."))
    area_text = forms.CharField(label=_("Focus or area text"), required=False, max_length=200,
                                help_text=_("Words that must appear in the object, e.g. a sea area or a sector."))
    releasable_to = forms.ChoiceField(label=_("Label releasable to"), required=False)
    community = forms.ChoiceField(label=_("Label community"), required=False)
    tlp = forms.ChoiceField(label=_("Label TLP"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        any_value = ("", _("Any"))
        self.fields["releasable_to"].choices = [any_value, *_category_values("releasable_to")]  # type: ignore[attr-defined]
        self.fields["community"].choices = [any_value, *_category_values("communities")]  # type: ignore[attr-defined]
        self.fields["tlp"].choices = [any_value, *((t.value, f"TLP:{t.value}") for t in TLP)]  # type: ignore[attr-defined]


class DeleteForm(forms.Form):
    """A POST with only the CSRF token: deleting a watch filter."""
