"""Export: a STIX 2.1 bundle valid under the OASIS stix2-validator, with every kind of stored object, carrying each
object's Kizuna label, and nothing the reader may not see (two users of different nations)."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from stix2validator import ValidationOptions, validate_string

from kizuna.core.errors import ServiceError
from kizuna.directory.subjects import subject_for
from kizuna.labels import TLP, Label
from kizuna.stix.definitions import KIZUNA_IDENTITY_ID
from kizuna.stix.timestamps import format_timestamp
from kizuna.threats.exporter import iter_bundle, with_label_marking, write_bundle
from kizuna.threats.markings import (
    KIZUNA_LABEL_EXTENSION_ID,
    TLP2_IDS,
    label_from_marking,
    label_marking,
    label_marking_id,
    tlp2_marking,
)
from tests.conftest import make_label
from tests.threats.test_queries_fixtures import _BODIES, SCO_TYPES, T0, put, relate, sight

JPN_ONLY = make_label(releasable_to=["JPN"])
KOR_ONLY = make_label(releasable_to=["KOR"])
IP4 = make_label(releasable_to=["NATO", "IP4"])

pytestmark = pytest.mark.django_db


def bundle_of(user: Any, **filters: Any) -> dict[str, Any]:
    text = "".join(iter_bundle(subject_for(user), **filters))
    parsed: dict[str, Any] = json.loads(text)
    return parsed


def stored(bundle: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The bundle's objects other than what the export adds (identity, extension-definition, label markings, the
    standard TLP 2.0 markings)."""
    extra = {KIZUNA_IDENTITY_ID, KIZUNA_LABEL_EXTENSION_ID, *TLP2_IDS.values()}
    return {
        o["id"]: o for o in bundle["objects"]
        if o["id"] not in extra and not (o["type"] == "marking-definition" and KIZUNA_LABEL_EXTENSION_ID
                                         in o.get("extensions", {}))
    }


def assert_valid(bundle_text: str) -> None:
    result = validate_string(bundle_text, ValidationOptions(version="2.1"))
    # validate_string answers one result for the bundle (ObjectValidationResults): errors and warnings are lists.
    assert result.is_valid, [str(e) for e in result.errors]


def store_every_kind(label: Label) -> list[str]:
    """One stored object of each kind the store holds; returns their ids."""
    objs = [put(t, label) for t in _BODIES]
    objs += [put(t, label) for t in SCO_TYPES]
    kind = {o.type: o for o in objs}
    objs.append(relate(kind["malware"], kind["threat-actor"], label))
    objs.append(sight(kind["indicator"], label, count=2, where_sighted_refs=[kind["identity"].stix_id]))
    tlp_amber = TLP2_IDS[TLP.AMBER]
    objs.append(put("marking-definition", label, stix_id=tlp_amber, body={
        "type": "marking-definition", "spec_version": "2.1", "id": tlp_amber, "created": "2022-10-01T00:00:00.000Z",
        "name": "TLP:AMBER", "extensions": {"extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d": {
            "extension_type": "property-extension", "tlp_2_0": "amber"}}}))
    statement = "marking-definition--7ce4a0f2-1c4c-4c77-8a31-34a7c1c0e0a1"
    objs.append(put("marking-definition", label, stix_id=statement, body={
        "type": "marking-definition", "spec_version": "2.1", "id": statement, "created": T0,
        "definition_type": "statement", "definition": {"statement": "Copyright JPN"}}))
    objs.append(put("malware", label, object_marking_refs=[tlp_amber]))  # has markings, not ours
    objs.append(put("language-content", label, object_ref=kind["malware"].stix_id, object_modified=T0,
                    contents={"ja": {"name": "さくらローダー"}}))
    ext = "extension-definition--d83fce45-ef58-4c6c-a3f4-1fbc32e98c6e"
    objs.append(put("extension-definition", label, stix_id=ext, created_by_ref=kind["identity"].stix_id,
                    name="Maritime incident", schema="https://kizuna.invalid/maritime.json", version="1.0.0",
                    extension_types=["new-sdo"]))
    objs.append(put("x-maritime-incident", label, body={
        "type": "x-maritime-incident", "spec_version": "2.1", "id": "x-maritime-incident--00000000-1111-4222-8333-444444444444",
        "created": T0, "modified": T0, "name": "STS transfer", "extensions": {ext: {"extension_type": "new-sdo"}}},
        stix_id="x-maritime-incident--00000000-1111-4222-8333-444444444444"))
    objs.append(put("x-mitre-tactic", label, body={
        "type": "x-mitre-tactic", "spec_version": "2.1", "id": "x-mitre-tactic--00000000-1111-4222-8333-555555555555",
        "created": T0, "modified": T0, "name": "Plan Objectives", "x_mitre_shortname": "plan-objectives"},
        stix_id="x-mitre-tactic--00000000-1111-4222-8333-555555555555"))
    return [o.stix_id for o in objs]


def test_bundle_of_every_kind_of_object_is_valid_stix(jpn_user: Any) -> None:
    every = store_every_kind(IP4)
    text = "".join(iter_bundle(subject_for(jpn_user)))
    assert_valid(text)
    bundle = json.loads(text)
    assert bundle["type"] == "bundle" and bundle["id"].startswith("bundle--")
    assert set(every) <= {o["id"] for o in bundle["objects"]}
    ids = [o["id"] for o in bundle["objects"]]
    assert len(ids) == len(set(ids))


def test_every_exported_object_carries_its_label_marking_and_the_marking_is_in_the_bundle(jpn_user: Any) -> None:
    put("malware", IP4)
    put("indicator", JPN_ONLY)
    put("malware", IP4, object_marking_refs=[TLP2_IDS[TLP.GREEN]])
    bundle = bundle_of(jpn_user)
    markings = {o["id"]: o for o in bundle["objects"] if o["type"] == "marking-definition"}
    for obj in stored(bundle).values():
        kizuna_refs = [r for r in obj["object_marking_refs"]
                       if r in markings and KIZUNA_LABEL_EXTENSION_ID in markings[r].get("extensions", {})]
        labels = [label_from_marking(markings[r]) for r in kizuna_refs]
        assert labels and all(lbl in (IP4, JPN_ONLY) for lbl in labels)
    assert {label_from_marking(m) for m in markings.values()} - {None} == {IP4, JPN_ONLY}
    own_tlp = next(o for o in stored(bundle).values() if TLP2_IDS[TLP.GREEN] in o["object_marking_refs"])
    assert own_tlp["object_marking_refs"][0] == TLP2_IDS[TLP.GREEN]  # the object's own markings are kept, first


def test_identity_and_extension_definition_appear_once_even_when_stored(jpn_user: Any) -> None:
    from kizuna.stix.definitions import kizuna_identity
    from kizuna.threats.markings import label_extension_definition

    put("identity", IP4, stix_id=KIZUNA_IDENTITY_ID, body=kizuna_identity())
    put("extension-definition", IP4, stix_id=KIZUNA_LABEL_EXTENSION_ID, body=label_extension_definition())
    stored_marking = label_marking(IP4)
    put("marking-definition", IP4, stix_id=stored_marking["id"], body=stored_marking)
    put("malware", IP4)
    ids = [o["id"] for o in bundle_of(jpn_user)["objects"]]
    assert ids.count(KIZUNA_IDENTITY_ID) == 1
    assert ids.count(KIZUNA_LABEL_EXTENSION_ID) == 1
    assert ids.count(label_marking_id(IP4)) == 1


def test_korean_export_has_nothing_released_only_to_japan(jpn_user: Any, kor_user: Any) -> None:
    shared = put("malware", IP4)
    japanese = put("threat-actor", JPN_ONLY)
    korean = put("threat-actor", KOR_ONLY)
    rel_to_japanese = relate(japanese, shared, IP4)
    sighting_of_japanese = sight(japanese, IP4)
    kor = bundle_of(kor_user)
    jpn = bundle_of(jpn_user)
    assert set(stored(kor)) == {shared.stix_id, korean.stix_id}
    assert set(stored(jpn)) == {shared.stix_id, japanese.stix_id, rel_to_japanese.stix_id, sighting_of_japanese.stix_id}
    kor_text = json.dumps(kor)
    assert japanese.stix_id not in kor_text and label_marking_id(JPN_ONLY) not in kor_text
    assert_valid(json.dumps(kor))


def test_filters_by_type_id_and_added_after(jpn_user: Any) -> None:
    m = put("malware", IP4)
    i = put("indicator", IP4)
    assert set(stored(bundle_of(jpn_user, types=["malware"]))) == {m.stix_id}
    assert set(stored(bundle_of(jpn_user, ids=[i.stix_id, "malware--nope"]))) == {i.stix_id}
    assert set(stored(bundle_of(jpn_user, ids=[]))) == set()
    later = format_timestamp(m.created_at, "microsecond")
    assert m.stix_id not in stored(bundle_of(jpn_user, added_after=later))
    assert set(stored(bundle_of(jpn_user, added_after="2000-01-01T00:00:00Z"))) == {m.stix_id, i.stix_id}


def test_bad_added_after_is_a_readable_error(jpn_user: Any) -> None:
    with pytest.raises(ServiceError) as err:
        iter_bundle(subject_for(jpn_user), added_after="yesterday")
    assert err.value.field == "added_after"
    with pytest.raises(ServiceError):  # a STIX timestamp is UTC with a trailing Z: an offset is not guessed
        iter_bundle(subject_for(jpn_user), added_after="2000-01-01T09:00:00+09:00")


def test_export_of_an_empty_store_is_still_a_valid_bundle(jpn_user: Any) -> None:
    text = "".join(iter_bundle(subject_for(jpn_user)))
    assert_valid(text)
    assert {o["type"] for o in json.loads(text)["objects"]} == {"identity", "extension-definition"}


def test_export_spans_several_chunks(jpn_user: Any, monkeypatch: Any) -> None:
    from kizuna.threats import exporter

    monkeypatch.setattr(exporter, "CHUNK", 3)
    made = {put("malware", IP4).stix_id for _ in range(8)}
    assert set(stored(bundle_of(jpn_user))) == made


def test_write_bundle_counts_stored_objects(jpn_user: Any) -> None:
    put("malware", IP4)
    put("malware", IP4)
    put("malware", JPN_ONLY)
    out = io.StringIO()
    assert write_bundle(subject_for(jpn_user), out, types=["malware"]) == 3
    assert len(stored(json.loads(out.getvalue()))) == 3


def test_stored_text_is_served_unchanged_apart_from_the_marking(jpn_user: Any) -> None:
    odd = put("malware", IP4, x_custom_field={"unicode": "機密", "number": 1.50})
    exported = stored(bundle_of(jpn_user))[odd.stix_id]
    original = json.loads(odd.data)
    assert exported.pop("object_marking_refs") == [label_marking_id(IP4), TLP2_IDS[IP4.tlp]]
    assert exported == original


def test_every_exported_object_names_the_tlp2_marking_of_its_label_and_the_bundle_defines_it(jpn_user: Any) -> None:
    green = make_label(releasable_to=["NATO", "IP4"], tlp="GREEN")
    indicator = put("indicator", green)
    amber = put("malware", IP4)
    own = put("malware", green, object_marking_refs=[TLP2_IDS[TLP.RED]])  # a TLP marking of its own, kept
    text = "".join(iter_bundle(subject_for(jpn_user)))
    assert_valid(text)
    bundle = json.loads(text)
    objects = stored(bundle)
    assert objects[indicator.stix_id]["object_marking_refs"] == [label_marking_id(green), TLP2_IDS[TLP.GREEN]]
    assert objects[amber.stix_id]["object_marking_refs"] == [label_marking_id(IP4), TLP2_IDS[TLP.AMBER]]
    assert objects[own.stix_id]["object_marking_refs"] == [TLP2_IDS[TLP.RED], label_marking_id(green),
                                                          TLP2_IDS[TLP.GREEN]]
    definitions = {o["id"]: o for o in bundle["objects"] if o["type"] == "marking-definition"}
    for tlp in (TLP.GREEN, TLP.AMBER, TLP.RED):  # each once, in its standard form
        assert definitions[TLP2_IDS[tlp]] == tlp2_marking(tlp)
        assert [o["id"] for o in bundle["objects"]].count(TLP2_IDS[tlp]) == 1
    assert TLP2_IDS[TLP.CLEAR] not in definitions  # only what is referred to


def test_a_bundle_exported_by_kizuna_keeps_its_tlp_through_misp_stix(jpn_user: Any, tmp_path: Any) -> None:
    """The round trip the issue asks for: MISP's own converter (misp-stix) reads a Kizuna bundle into a MISP event;
    the indicator keeps its TLP as the MISP tag."""
    from misp_stix_converter import stix_2_to_misp

    green = make_label(releasable_to=["NATO", "IP4"], tlp="GREEN")
    indicator = put("indicator", green, name="C2 address")
    path = tmp_path / "kizuna.json"
    with path.open("w") as out:
        write_bundle(subject_for(jpn_user), out)
    result = stix_2_to_misp(path, single_event=True, output_dir=tmp_path)
    # MISP does not know Kizuna's label extension and says so for the label marking; nothing else may fail.
    errors = [e for messages in (result.get("errors") or {}).values() for e in messages]
    assert all(("marking-definition" in e or KIZUNA_LABEL_EXTENSION_ID in e) and indicator.stix_id not in e
               for e in errors), errors
    event = json.loads((tmp_path / "kizuna.json.out").read_text())
    event = event.get("Event", event)
    uuid_of = indicator.stix_id.split("--", 1)[1]
    tagged: list[dict[str, Any]] = [
        *event.get("Attribute", []),
        *(a for o in event.get("Object", []) for a in o.get("Attribute", [])),
        *event.get("Object", []),
    ]
    holders = [h for h in tagged if h.get("uuid") == uuid_of]
    assert holders, [h.get("uuid") for h in tagged]
    tags = {t["name"].lower() for h in holders for t in h.get("Tag", [])}
    assert "tlp:green" in tags, tags


def test_with_label_marking_leaves_an_object_that_has_it_untouched() -> None:
    mid = label_marking_id(IP4)
    text = json.dumps({"type": "malware", "object_marking_refs": [mid]})
    assert with_label_marking(text, mid) is text
    spliced = json.loads(with_label_marking('{"type": "malware"}  \n', mid))
    assert spliced == {"type": "malware", "object_marking_refs": [mid]}
    merged = json.loads(with_label_marking('{"type": "malware", "object_marking_refs": ["a"]}', mid))
    assert merged["object_marking_refs"] == ["a", mid]
    both = (mid, TLP2_IDS[TLP.GREEN])
    assert json.loads(with_label_marking('{"type": "malware"}', both))["object_marking_refs"] == list(both)
    half = json.loads(with_label_marking(json.dumps({"type": "malware", "object_marking_refs": [mid]}), both))
    assert half["object_marking_refs"] == list(both)  # only what is missing is added


def test_a_reader_who_may_see_no_label_gets_a_valid_bundle_with_nothing_stored(make_user: Any) -> None:
    put("malware", IP4)
    nobody = make_user("nobody", "JPN", "JPN-NISC", clearance="")
    text = "".join(iter_bundle(subject_for(nobody)))
    assert_valid(text)
    assert stored(json.loads(text)) == {}


def test_an_exported_bundle_imports_back_under_the_labels_it_carries(jpn_user: Any) -> None:
    """Federation round trip: the label marking each object carries is read by the importer, so a receiving node
    files it under the same label, not under its default."""
    from kizuna.core.models import label_id_for
    from kizuna.threats.models import StixObject
    from kizuna.threats.services import do_import_bundle

    japanese, shared = put("malware", JPN_ONLY), put("indicator", IP4)
    text = "".join(iter_bundle(subject_for(jpn_user)))
    StixObject.objects.all().delete()
    summary = do_import_bundle(jpn_user, io.BytesIO(text.encode()), "round trip", make_label(releasable_to=["JPN"], tlp="GREEN"))
    assert summary.rejected == 0, summary.errors
    assert StixObject.objects.get(stix_id=japanese.stix_id).label_id == label_id_for(JPN_ONLY)
    assert StixObject.objects.get(stix_id=shared.stix_id).label_id == label_id_for(IP4)
