"""Signatures: a signed object verifies; any change of a value breaks it while key order does not; a tampered
signature, an unknown key and an unsigned object are told apart; a retired key still verifies what it signed."""

from __future__ import annotations

import base64
import copy
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kizuna.federation import keys, services
from kizuna.federation.signing import (
    SIGNATURE_EXTENSION_ID,
    Verdict,
    canonical,
    sign_object,
    sign_with,
    signature_extension_definition,
    verify_object,
)
from kizuna.stix.definitions import KIZUNA_IDENTITY_ID

INDICATOR: dict[str, Any] = {
    "type": "indicator", "spec_version": "2.1", "id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
    "created": "2026-11-01T09:00:00.000Z", "modified": "2026-11-01T09:00:00.000Z", "name": "C2 address",
    "pattern": "[ipv4-addr:value = '198.51.100.7']", "pattern_type": "stix", "valid_from": "2026-11-01T09:00:00Z",
    "confidence": 80, "labels": ["c2"],
    "object_marking_refs": ["marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"],
}

# One key pair for the property tests (no database: sign_with takes the key directly).
PRIVATE, KID = keys.generate()
TRUSTED = {KID: keys.public_raw(PRIVATE)}
NODE = "identity--11111111-2222-4333-8444-555555555555"


def signed(obj: dict[str, Any]) -> dict[str, Any]:
    return sign_with(obj, NODE, KID, PRIVATE)


@pytest.mark.django_db
def test_sign_object_with_the_node_key_round_trips() -> None:
    obj = sign_object(INDICATOR)
    extension = obj["extensions"][SIGNATURE_EXTENSION_ID]
    node, key = services.node_identity(), services.active_key()
    assert extension["extension_type"] == "property-extension"
    assert (extension["node"], extension["key_id"], extension["alg"]) == (node.stix_id, key.key_id, "Ed25519")
    assert len(base64.b64decode(extension["signature"])) == 64
    result = verify_object(obj, services.public_keys())
    assert result.ok, result.reason
    assert (result.node, result.key_id) == (node.stix_id, key.key_id)


def test_signing_does_not_change_the_input_and_keeps_other_extensions() -> None:
    original = {**INDICATOR, "extensions": {"extension-definition--aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee": {"x": 1}}}
    before = copy.deepcopy(original)
    obj = signed(original)
    assert original == before
    assert set(obj["extensions"]) == {"extension-definition--aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee", SIGNATURE_EXTENSION_ID}
    assert verify_object(obj, TRUSTED).ok


def test_canonical_form_excludes_the_signature_extension() -> None:
    assert canonical(signed(INDICATOR)) == canonical(INDICATOR)
    assert b"extensions" not in canonical(signed(INDICATOR))


def test_signed_object_survives_a_json_round_trip() -> None:
    assert verify_object(json.loads(json.dumps(signed(INDICATOR), indent=2)), TRUSTED).ok


def test_resigning_replaces_the_earlier_signature() -> None:
    other, other_kid = keys.generate()
    obj = sign_with(signed(INDICATOR), NODE, other_kid, other)
    assert obj["extensions"][SIGNATURE_EXTENSION_ID]["key_id"] == other_kid
    assert verify_object(obj, {other_kid: keys.public_raw(other)}).ok


def test_unsigned_object_is_reported_as_unsigned() -> None:
    result = verify_object(INDICATOR, TRUSTED)
    assert result.verdict is Verdict.UNSIGNED
    assert not result.ok


def test_unknown_key_is_reported_with_its_id() -> None:
    result = verify_object(signed(INDICATOR), {})
    assert result.verdict is Verdict.UNKNOWN_KEY
    assert KID in result.reason


def test_tampered_signature_is_a_bad_signature() -> None:
    obj = signed(INDICATOR)
    raw = bytearray(base64.b64decode(obj["extensions"][SIGNATURE_EXTENSION_ID]["signature"]))
    raw[0] ^= 1
    obj["extensions"][SIGNATURE_EXTENSION_ID]["signature"] = base64.b64encode(bytes(raw)).decode()
    result = verify_object(obj, TRUSTED)
    assert result.verdict is Verdict.BAD_SIGNATURE
    assert "does not verify" in result.reason


def test_signature_of_another_key_under_the_claimed_key_id_is_bad() -> None:
    forger, _ = keys.generate()
    obj = sign_with(INDICATOR, NODE, KID, forger)  # claims our key id
    assert verify_object(obj, TRUSTED).verdict is Verdict.BAD_SIGNATURE


@pytest.mark.parametrize(("change", "reason"), [
    ({"alg": "RS256"}, "unsupported signature algorithm"),
    ({"signature": "not base64!"}, "not base64"),
    ({"signature": None}, "must be strings"),
    ({"key_id": 7}, "must be strings"),
])
def test_malformed_signature_extension_is_a_bad_signature_with_its_reason(change: dict[str, Any], reason: str) -> None:
    obj = signed(INDICATOR)
    obj["extensions"][SIGNATURE_EXTENSION_ID].update(change)
    result = verify_object(obj, TRUSTED)
    assert result.verdict is Verdict.BAD_SIGNATURE
    assert reason in result.reason


def test_signature_extension_that_is_not_an_object_is_a_bad_signature() -> None:
    obj = {**INDICATOR, "extensions": {SIGNATURE_EXTENSION_ID: "sig"}}
    assert verify_object(obj, TRUSTED).verdict is Verdict.BAD_SIGNATURE


def test_object_that_cannot_be_canonicalised_is_refused_for_signing_and_fails_verification() -> None:
    from kizuna.federation.signing import SigningError

    with pytest.raises(SigningError):
        signed({**INDICATOR, "confidence": float("nan")})
    obj = signed(INDICATOR)
    obj["x_count"] = 2**60  # beyond what RFC 8785 (IEEE 754 doubles) can carry exactly
    assert verify_object(obj, TRUSTED).verdict is Verdict.BAD_SIGNATURE


@pytest.mark.django_db
def test_rotation_keeps_old_signatures_verifiable_and_new_ones_use_the_new_key() -> None:
    before = sign_object(INDICATOR)
    rotation = services.rotate_key("cli:test")
    after = sign_object(INDICATOR)
    trusted = services.public_keys()
    assert verify_object(before, trusted).ok
    assert verify_object(after, trusted).ok
    assert before["extensions"][SIGNATURE_EXTENSION_ID]["key_id"] == rotation.retired
    assert after["extensions"][SIGNATURE_EXTENSION_ID]["key_id"] == rotation.active


@pytest.mark.django_db
def test_signer_signs_many_objects_with_one_key_read() -> None:
    signer = services.signer()
    objs = [sign_object({**INDICATOR, "name": f"n{i}"}, signer) for i in range(5)]
    trusted = services.public_keys()
    assert all(verify_object(obj, trusted).ok for obj in objs)


def test_signature_extension_definition_is_declared_by_kizuna_with_the_fixed_id() -> None:
    import uuid

    definition = signature_extension_definition()
    assert definition["id"] == SIGNATURE_EXTENSION_ID
    assert uuid.UUID(SIGNATURE_EXTENSION_ID.split("--")[1]).version == 4
    assert definition["created_by_ref"] == KIZUNA_IDENTITY_ID
    assert definition["extension_types"] == ["property-extension"]
    assert signature_extension_definition() == definition  # deterministic


def test_signature_extension_definition_is_valid_stix() -> None:
    stix2 = pytest.importorskip("stix2")
    parsed = stix2.parse(signature_extension_definition(), allow_custom=False)
    assert parsed.id == SIGNATURE_EXTENSION_ID


# ---- properties over random STIX-like objects --------------------------------------------------------------------

SAFE_INT = st.integers(min_value=-(2**53) + 1, max_value=2**53 - 1)
TEXT = st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=12)
FINITE = st.floats(allow_nan=False, allow_infinity=False)
SCALARS = st.none() | st.booleans() | SAFE_INT | FINITE | TEXT
JSON = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
                    max_leaves=12)
STIX_LIKE = st.fixed_dictionaries(
    {"type": st.sampled_from(["indicator", "malware", "report", "x-kizuna-note"]), "spec_version": st.just("2.1"),
     "id": st.uuids(version=4).map(lambda u: f"indicator--{u}"), "created": st.just("2026-11-01T09:00:00.000Z")},
).flatmap(lambda base: st.dictionaries(TEXT.filter(lambda k: k not in base), JSON, max_size=6).map(
    lambda extra: {**base, **extra}))
PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def reordered(value: Any, rnd: Any) -> Any:
    """The same JSON value with every object's keys in a shuffled order."""
    if isinstance(value, dict):
        items = list(value.items())
        rnd.shuffle(items)
        return {k: reordered(v, rnd) for k, v in items}
    if isinstance(value, list):
        return [reordered(v, rnd) for v in value]
    return value


def paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in a JSON value (dict keys and list indexes), the root excluded."""
    found: list[tuple[Any, ...]] = []
    children = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else []
    for key, child in children:
        found.append((*prefix, key))
        found.extend(paths(child, (*prefix, key)))
    return found


def different(value: Any) -> Any:
    """A JSON value that is certainly a different value (not another spelling of the same number)."""
    if isinstance(value, bool) or value is None:
        return "changed" if value is None else not value
    if isinstance(value, int | float):
        return value + 1 if abs(value) < 2**52 else value / 2
    if isinstance(value, str):
        return value + "x"
    if isinstance(value, list):
        return [*value, None]
    return {**value, "added": True}


@PROPERTY
@given(obj=STIX_LIKE, rnd=st.randoms(use_true_random=False))
def test_key_order_does_not_matter(obj: dict[str, Any], rnd: Any) -> None:
    sig = signed(obj)
    shuffled = reordered(sig, rnd)
    assert canonical(shuffled) == canonical(obj)
    assert verify_object(shuffled, TRUSTED).ok


@PROPERTY
@given(obj=STIX_LIKE, data=st.data())
def test_any_change_of_any_value_breaks_the_signature(obj: dict[str, Any], data: Any) -> None:
    sig = signed(obj)
    tampered = copy.deepcopy(sig)
    places = [p for p in paths(tampered) if p[:1] != ("extensions",)]
    kind = data.draw(st.sampled_from(["change", "remove", "add"]))
    place = data.draw(st.sampled_from(places))
    parent = tampered
    for step in place[:-1]:
        parent = parent[step]
    if kind == "change":
        parent[place[-1]] = different(parent[place[-1]])
    elif kind == "remove":
        del parent[place[-1]]
    else:
        tampered["x_added_property"] = data.draw(JSON)
    result = verify_object(tampered, TRUSTED)
    assert result.verdict is Verdict.BAD_SIGNATURE, (kind, place)
