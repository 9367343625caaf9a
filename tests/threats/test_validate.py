"""STIX 2.1 validation: every failure names the property and the reason; custom types are accepted only when
declared (``x-`` or an extension-definition); indicator patterns are checked by the STIX patterning grammar."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from kizuna.threats.store import to_text
from kizuna.threats.validate import check_pattern, simple_pattern, timestamp_key, validate_object
from tests.threats.test_import_fixtures import T0, T1, indicator, malware, relationship

EXAMPLES = Path(__file__).resolve().parents[3] / "shared" / "data" / "stix21-examples"


def test_valid_objects_pass() -> None:
    assert validate_object(indicator()) is None
    assert validate_object(malware()) is None
    assert validate_object(relationship(indicator()["id"], malware()["id"])) is None


@pytest.mark.parametrize(("change", "prefix"), [
    ({"type": "indicatorx"}, "type:"),
    ({"type": "Indicator"}, "type:"),
    ({"id": "indicator--not-a-uuid"}, "id:"),
    ({"id": "malware--6b616fc1-1505-48e3-8b2c-0d19337bff38"}, "id:"),
    ({"id": "indicator--6b616fc1-1505-48e3-8b2c-0d19337bff38".replace("-8b2c", "-7b2c")}, "id:"),
    ({"spec_version": "2.0"}, "spec_version:"),
    ({"created": "2026-02-01 00:00:00"}, "created:"),
    ({"modified": "2026-02-01T00:00:00+09:00"}, "modified:"),
    ({"modified": "2026-02-30T00:00:00Z"}, "modified:"),
    ({"modified": "2025-01-01T00:00:00Z"}, "modified: earlier than created"),
    ({"pattern": "[ipv4-addr:value = '1.2.3.4'"}, "pattern:"),
    ({"pattern": "[file:hashes.'SHA-256' = 'abc']"}, "pattern:"),
    ({"valid_from": 5}, "valid_from:"),
    ({"object_marking_refs": ["tlp:red"]}, "object_marking_refs:"),
    ({"created_by_ref": "someone"}, "created_by_ref:"),
    ({"revoked": "yes"}, "revoked:"),
])
def test_each_invalid_property_is_named_in_the_reason(change: dict[str, Any], prefix: str) -> None:
    obj = indicator()
    obj.update(change)
    reason = validate_object(obj)
    assert reason is not None
    assert reason.startswith(prefix), reason


@pytest.mark.parametrize(("stix_type", "missing"), [
    ("indicator", "pattern"), ("indicator", "pattern_type"), ("indicator", "valid_from"), ("malware", "is_family"),
    ("relationship", "relationship_type"), ("relationship", "source_ref"), ("relationship", "target_ref"),
])
def test_missing_required_property_is_rejected(stix_type: str, missing: str) -> None:
    obj = {"indicator": indicator(), "malware": malware(),
           "relationship": relationship(indicator()["id"], malware()["id"])}[stix_type]
    del obj[missing]
    assert validate_object(obj) == f"{missing}: missing (required for {stix_type})"


def test_sighting_needs_sighting_of_ref() -> None:
    sighting = {"type": "sighting", "spec_version": "2.1", "id": "sighting--6b616fc1-1505-48e3-8b2c-0d19337bff38",
                "created": T0, "modified": T0}
    assert validate_object(sighting) == "sighting_of_ref: missing (required for sighting)"
    sighting["sighting_of_ref"] = indicator()["id"]
    assert validate_object(sighting) is None


def test_missing_type_id_and_not_an_object() -> None:
    assert validate_object([1, 2]) == "not a JSON object"
    assert validate_object({"id": "x"}) == "type: missing"
    obj = malware()
    del obj["id"]
    assert validate_object(obj) == "id: missing"


def test_observable_may_omit_spec_version_and_timestamps_but_sdo_may_not() -> None:
    sco = {"type": "ipv4-addr", "id": "ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd", "value": "198.51.100.3"}
    assert validate_object(sco) is None
    sdo = malware()
    del sdo["spec_version"]
    assert validate_object(sdo) == 'spec_version: missing (must be "2.1")'
    sdo = malware()
    del sdo["modified"]
    assert validate_object(sdo) == "modified: missing"


def test_unknown_type_is_rejected_but_x_custom_type_is_accepted() -> None:
    custom = {"type": "x-mitre-tactic", "spec_version": "2.1", "id": "x-mitre-tactic--6b616fc1-1505-48e3-8b2c-0d19337bff38",
              "created": T0, "modified": T0, "name": "Plan", "x_mitre_shortname": "plan"}
    assert validate_object(custom) is None
    unknown = dict(custom, type="vessel", id="vessel--6b616fc1-1505-48e3-8b2c-0d19337bff38")
    reason = validate_object(unknown)
    assert reason is not None and reason.startswith("type: 'vessel' is not a STIX 2.1 type")


def test_type_declared_by_an_extension_definition_is_accepted() -> None:
    vessel = {"type": "vessel", "spec_version": "2.1", "id": "vessel--6b616fc1-1505-48e3-8b2c-0d19337bff38",
              "created": T0, "modified": T1, "name": "Sea Star",
              "extensions": {"extension-definition--1d0a2f37-6d2c-4b4e-9a62-2f4b8e0f3d11": {"extension_type": "new-sdo"}}}
    assert validate_object(vessel) is None
    property_only = copy.deepcopy(vessel)
    property_only["extensions"]["extension-definition--1d0a2f37-6d2c-4b4e-9a62-2f4b8e0f3d11"]["extension_type"] = \
        "property-extension"
    assert validate_object(property_only) is not None


def test_marking_definition_without_modified_is_valid() -> None:
    marking = {"type": "marking-definition", "spec_version": "2.1", "created": T0,
               "id": "marking-definition--6b616fc1-1505-48e3-8b2c-0d19337bff38", "definition_type": "statement",
               "definition": {"statement": "Copyright 2026"}}
    assert validate_object(marking) is None
    del marking["definition"]
    assert validate_object(marking) is not None


@pytest.mark.skipif(not EXAMPLES.exists(), reason="the OASIS examples are not in ../shared/data")
def test_every_object_of_the_oasis_examples_is_valid() -> None:
    count = 0
    for path in sorted(EXAMPLES.glob("*.json")):
        data = json.loads(path.read_text())
        for obj in data.get("objects", []):
            assert validate_object(obj) is None, (path.name, obj["id"], validate_object(obj))
            count += 1
    assert count > 200


def test_simple_patterns_take_the_fast_path_and_give_their_values() -> None:
    assert simple_pattern("[ipv4-addr:value = '198.51.100.7']") == [("ipv4-addr", "198.51.100.7")]
    assert simple_pattern("[domain-name:value = 'a.example' OR url:value = 'http://x/\\'q']") == [
        ("domain-name", "a.example"), ("url", "http://x/'q")]
    assert simple_pattern("[file:hashes.'SHA-256' = '" + "AB" * 32 + "']") == [("file:SHA-256", "ab" * 32)]
    assert simple_pattern("[file:hashes.MD5 = '" + "0" * 32 + "' AND file:hashes.'SHA-1' = '" + "1" * 40 + "']") == [
        ("file:MD5", "0" * 32), ("file:SHA-1", "1" * 40)]


def test_other_patterns_go_to_the_full_validator() -> None:
    complex_pattern = "[file:name = 'x.exe'] FOLLOWEDBY [ipv4-addr:value = '10.0.0.1'] WITHIN 5 SECONDS"
    assert simple_pattern(complex_pattern) is None
    assert check_pattern(complex_pattern) is None
    assert simple_pattern("[file:hashes.MD5 = 'abc']") is None
    assert check_pattern("[file:hashes.MD5 = 'abc']") == "'abc' is not a valid MD5 hash"
    assert check_pattern("ipv4-addr:value = '1.2.3.4'") is not None


def test_infinite_numbers_and_lone_surrogates_cannot_be_stored() -> None:
    assert to_text(malware(confidence=float("inf"))) is None
    assert to_text(malware(name="\ud800")) is None
    assert to_text(malware(name="海星")) is not None


def test_timestamp_key_orders_by_instant_not_by_text() -> None:
    assert timestamp_key("2026-01-01T00:00:27Z") == timestamp_key("2026-01-01T00:00:27.000Z")
    assert timestamp_key("2026-01-01T00:00:27.5Z") > timestamp_key("2026-01-01T00:00:27Z")
    assert "2026-01-01T00:00:27.5Z" < "2026-01-01T00:00:27Z"  # why the key exists
