"""Markings both ways: TLP 2.0 (and TLP 1.0 on import) by their standard ids, and a Kizuna label as a
marking-definition carrying the Kizuna label extension, declared by an extension-definition of our own."""

from __future__ import annotations

from typing import Any

from kizuna.labels import TLP, Label, LabelError
from kizuna.labels.messages import gettext_noop
from kizuna.labels.stixid import deterministic_id, label_marking_id  # noqa: F401  (re-exported)
from kizuna.stix.definitions import EPOCH, KIZUNA_IDENTITY_ID, extension_definition

# TLP 2.0 marking-definition ids (STIX 2.1 TLP 2.0 extension), and TLP 1.0 ids that older tools (MISP) still send.
TLP2_IDS: dict[TLP, str] = {
    TLP.CLEAR: "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
    TLP.GREEN: "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
    TLP.AMBER: "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
    TLP.AMBER_STRICT: "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
    TLP.RED: "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
}
TLP1_IDS: dict[str, TLP] = {
    "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9": TLP.CLEAR,  # white
    "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da": TLP.GREEN,
    "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82": TLP.AMBER,
    "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed": TLP.RED,
}
TLP_BY_ID: dict[str, TLP] = {**{v: k for k, v in TLP2_IDS.items()}, **TLP1_IDS}
TLP2_BY_ID: dict[str, TLP] = {v: k for k, v in TLP2_IDS.items()}
TLP2_EXTENSION_ID = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"
_TLP2_CREATED = "2022-10-01T00:00:00.000Z"  # as published with the standard ids


def tlp2_marking(tlp: TLP) -> dict[str, Any]:
    """The standard TLP 2.0 marking-definition object for ``tlp`` (the same on every node and in every tool)."""
    return {
        "type": "marking-definition", "spec_version": "2.1", "id": TLP2_IDS[tlp], "created": _TLP2_CREATED,
        "name": f"TLP:{tlp.value}",
        "extensions": {TLP2_EXTENSION_ID: {"extension_type": "property-extension", "tlp_2_0": tlp.value.lower()}},
    }

# Kizuna's own extension: a marking-definition whose extension carries a Kizuna label in its API form.
KIZUNA_LABEL_EXTENSION_ID = "extension-definition--7c1f4774-8f2a-4b6e-9d3a-6b697a756e61"


def label_extension_definition() -> dict[str, Any]:
    """The extension-definition that declares the Kizuna label extension (a property extension on markings)."""
    return extension_definition(
        KIZUNA_LABEL_EXTENSION_ID, "Kizuna confidentiality label",
        "A STANAG 4774-style confidentiality label (policy, classification, categories) with TLP 2.0 "
        "and TLP:RED recipients, in Kizuna's API form. Receivers must enforce it.",
        "label-extension", ["property-extension"],
    )


def label_marking(label: Label) -> dict[str, Any]:
    return {
        "type": "marking-definition", "spec_version": "2.1", "id": label_marking_id(label),
        "created_by_ref": KIZUNA_IDENTITY_ID, "created": EPOCH,
        "extensions": {KIZUNA_LABEL_EXTENSION_ID: {"extension_type": "property-extension", "label": label.as_api()}},
    }


def label_from_marking(marking: dict[str, Any]) -> Label | None:
    """The Kizuna label a marking-definition carries, or None when it carries none. A malformed one raises."""
    extension = (marking.get("extensions") or {}).get(KIZUNA_LABEL_EXTENSION_ID)
    if extension is None:
        return None
    if not isinstance(extension, dict):
        raise LabelError(gettext_noop("the Kizuna label extension must be an object"))
    return Label.from_api(extension.get("label"))


def tlp_of_refs(refs: list[str]) -> TLP | None:
    """The strictest TLP among the standard TLP markings referenced."""
    order = [TLP.CLEAR, TLP.GREEN, TLP.AMBER, TLP.AMBER_STRICT, TLP.RED]
    found = [TLP_BY_ID[r] for r in refs if r in TLP_BY_ID]
    return max(found, key=order.index) if found else None
