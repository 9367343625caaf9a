"""Kizuna's extension-definitions are built by one function: the same shape for every module, valid STIX 2.1."""

from __future__ import annotations

from typing import Any

from kizuna.stix.definitions import EPOCH, KIZUNA_IDENTITY_ID, extension_definition, kizuna_identity


def test_an_extension_definition_is_created_by_kizuna_at_the_epoch() -> None:
    made: dict[str, Any] = extension_definition(
        "extension-definition--00000000-0000-4000-8000-000000000001", "Example", "An example.", "example",
        ("new-sdo",))
    assert made == {
        "type": "extension-definition", "spec_version": "2.1",
        "id": "extension-definition--00000000-0000-4000-8000-000000000001",
        "created_by_ref": KIZUNA_IDENTITY_ID, "created": EPOCH, "modified": EPOCH,
        "name": "Example", "description": "An example.",
        "schema": "https://kizuna.invalid/schemas/example-1.0.json", "version": "1.0.0",
        "extension_types": ["new-sdo"],
    }
    assert kizuna_identity()["id"] == KIZUNA_IDENTITY_ID


def test_every_module_declares_its_extensions_through_the_builder() -> None:
    from kizuna.consultations.stix import consultation_extension_definition
    from kizuna.federation.signing import signature_extension_definition
    from kizuna.reports.stix import report_extension_definition
    from kizuna.threats.disinfo.services import extension_definition as disinfo_definition
    from kizuna.threats.geo.stix import extension_definitions as geo_definitions
    from kizuna.threats.markings import label_extension_definition

    made = [consultation_extension_definition(), signature_extension_definition(), report_extension_definition(),
            disinfo_definition(), *geo_definitions(), label_extension_definition()]
    assert len({d["id"] for d in made}) == 8
    for definition in made:
        rebuilt = extension_definition(definition["id"], definition["name"], definition["description"],
                                       definition["schema"].rsplit("/", 1)[1].removesuffix("-1.0.json"),
                                       definition["extension_types"])
        assert definition == rebuilt
