"""Forms of the peer administration pages: a new peer, one more key of a peer.

The forms only shape the input (text to lists, one clearance select per label policy); every rule about what a peer
may be is ``kizuna.federation.peers``'s, whose ``ServiceError`` the views put back on the field it names.
"""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from kizuna.core.access import registry
from kizuna.federation import cards

CLEARANCE_PREFIX = "clearance_"
# ServiceError.field values of the services that are not the names of this form's fields.
_FIELD_ALIASES = {"community": "communities"}


def community_choices() -> list[tuple[str, str]]:
    """Every value a subject's communities may hold under the node's policies (what the directory's check accepts)."""
    values: list[str] = []
    for policy in registry():
        for category in policy.categories.values():
            if category.subject_attribute == "communities":
                values.extend(v for v in category.values if v not in values)
    return [(v, v) for v in values]


def split_codes(text: str) -> list[str]:
    """``"JPN, NATO ip4"`` → ``["JPN", "NATO", "IP4"]``: commas or spaces between codes."""
    return [part.upper() for part in re.split(r"[\s,;]+", text) if part]


class PeerForm(forms.Form):
    name = forms.CharField(label=_("Peer name"), max_length=40,
                           help_text=_("A short code: lower-case letters, digits and dashes, e.g. jpn-node."))
    node_id = forms.CharField(label=_("Node id"), max_length=64,
                              help_text=_("The peer's identity id (identity--…), as its administrator reads it on their "
                                          "federation page or with 'kizuna node show'."))
    title = forms.CharField(label=pgettext_lazy("peer", "Title"), max_length=200, required=False,
                            help_text=_("A description for people, e.g. the organisation that runs the node."))
    nations = forms.CharField(label=_("Nations and groups"), max_length=500,
                              help_text=_("What the peer is entitled to read, as agreed: codes separated by commas, "
                                          "e.g. JPN or NATO, IP4."))
    communities = forms.MultipleChoiceField(label=_("Communities"), required=False, choices=community_choices,
                                            widget=forms.CheckboxSelectMultiple)
    public_key = forms.CharField(label=_("Public key"), max_length=100, required=False,
                                 help_text=_("The peer's Ed25519 public key in base64 (44 characters). Objects it "
                                             "signed are quarantined until one of its keys is trusted."))
    taxii_url = forms.CharField(label=_("TAXII URL"), max_length=500, required=False,
                                help_text=_("The peer's TAXII API root, e.g. https://jpn.example/taxii2/kizuna/. "
                                            "Empty: its keys are trusted, nothing is pulled from it."))
    credential = forms.CharField(label=_("Credential"), max_length=300, required=False, strip=True,
                                 widget=forms.PasswordInput(attrs={"autocomplete": "off"}, render_value=True),
                                 help_text=_("The API token the peer's administrator created for this node."))
    interval = forms.IntegerField(label=_("Sync interval (seconds)"), initial=300, min_value=0, max_value=86400 * 7)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # One select per label policy, like the directory's clearances ({"NATO": "RESTRICTED"}); "" = none.
        for policy in registry():
            choices = [("", "—")] + [(c.name, c.display or c.name) for c in policy.classifications]
            self.fields[CLEARANCE_PREFIX + policy.identifier] = forms.ChoiceField(
                label=_("Clearance (%(policy)s)") % {"policy": policy.identifier}, choices=choices, required=False)

    def clearance_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.fields if name.startswith(CLEARANCE_PREFIX)]

    def clearances(self) -> dict[str, str]:
        return {name[len(CLEARANCE_PREFIX):]: str(value) for name, value in self.cleaned_data.items()
                if name.startswith(CLEARANCE_PREFIX) and value}

    def field_for(self, service_field: str | None) -> str | None:
        """The form field a service's error belongs on (``None``: the form as a whole)."""
        if service_field == "clearance":
            names = [n for n in self.fields if n.startswith(CLEARANCE_PREFIX)]
            return names[0] if names else None
        name = _FIELD_ALIASES.get(service_field or "", service_field)
        return name if name in self.fields else None


class CardForm(forms.Form):
    """A node card from the peer's administrator, as the file they downloaded or pasted as text."""

    card_file = forms.FileField(label=_("Node card file"), required=False,
                                help_text=_("The .kizuna-node.json file the peer's administrator downloaded from "
                                            "their federation page."))
    card_text = forms.CharField(label=_("or paste the card"), required=False,
                                widget=forms.Textarea(attrs={"rows": 4, "spellcheck": "false"}))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("card_file") and not str(data.get("card_text") or "").strip():
            raise forms.ValidationError(_("Choose the node card file, or paste the card."))
        return data

    def card(self) -> cards.Card:
        """The card given (a ServiceError when it is not one)."""
        upload = self.cleaned_data.get("card_file")
        if upload is not None:  # read no more than a card can be: a larger file is refused as too large
            return cards.read(upload.read(cards.MAX_BYTES + 1), upload.name)
        return cards.read(str(self.cleaned_data["card_text"]))


class KeyForm(forms.Form):
    public_key = forms.CharField(label=_("Public key"), max_length=100,
                                 help_text=_("A further Ed25519 public key of the peer (after it rotated its key), "
                                             "in base64. Its earlier keys stay trusted for what they signed."))
