"""Import of STIX 2.1 objects and bundles: per-object errors with index, id and reason; idempotence; versions and
the current flag; the originator rule; labels from markings (Kizuna label marking, TLP marking plus default label,
unknown marking rejected); custom objects kept unchanged; broken JSON midway; the OASIS examples."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from kizuna.core.access import label_of
from kizuna.core.errors import ServiceError
from kizuna.core.models import AuditEntry
from kizuna.labels import TLP
from kizuna.threats.markings import TLP2_IDS, label_extension_definition, label_marking, label_marking_id
from kizuna.threats.models import StixObject
from kizuna.threats.services import do_import_bundle, do_import_objects
from tests.conftest import make_label
from tests.threats.test_import_fixtures import (
    T0,
    T1,
    T2,
    as_stream,
    bundle,
    current,
    indicator,
    malware,
    relationship,
    rows,
    values_of,
)

EXAMPLES = Path(__file__).resolve().parents[3] / "shared" / "data" / "stix21-examples"
JPN_ONLY = make_label(releasable_to=["JPN"])
NATO_IP4 = make_label(releasable_to=["NATO", "IP4"])


def test_valid_objects_are_stored_under_the_default_label_with_the_importers_organisation(jpn_user: Any) -> None:
    ind, mal = indicator(), malware()
    summary = do_import_objects(jpn_user, [ind, mal], NATO_IP4, "test")
    assert (summary.accepted, summary.unchanged, summary.rejected) == (2, 0, 0)
    assert sorted(summary.accepted_ids) == sorted([ind["id"], mal["id"]])
    row = current(ind["id"])
    assert label_of(row.label) == NATO_IP4
    assert row.originator_id == jpn_user.organisation_id
    assert json.loads(row.data) == ind
    assert row.name == ind["name"]
    assert summary.default_label_display.startswith("NATO UNCLASSIFIED")


def test_each_rejected_object_comes_back_with_index_id_and_reason(jpn_user: Any) -> None:
    good = indicator()
    bad_pattern = indicator(pattern="[ipv4-addr:value = '1.2.3.4'")
    no_type = {"id": "x"}
    summary = do_import_objects(jpn_user, [good, bad_pattern, "text", no_type], NATO_IP4)
    assert summary.accepted == 1 and summary.rejected == 3
    errors = {e.index: e for e in summary.errors}
    assert errors[1].id == bad_pattern["id"] and errors[1].reason.startswith("pattern:")
    assert errors[2].id is None and errors[2].reason == "not a JSON object"
    assert errors[3].reason == "type: missing"
    assert summary.rejected_by_reason == {"invalid STIX (pattern)": 1, "invalid STIX": 1, "invalid STIX (type)": 1}
    assert StixObject.objects.filter(stix_id=good["id"]).exists()


def test_importing_the_same_bundle_twice_changes_nothing(jpn_user: Any) -> None:
    ind, mal = indicator(), malware()
    data = bundle([ind, mal, relationship(ind["id"], mal["id"])])
    first = do_import_bundle(jpn_user, as_stream(data), "b.json", NATO_IP4)
    count, audits = StixObject.objects.count(), AuditEntry.objects.count()
    again = do_import_bundle(jpn_user, as_stream(data), "b.json", NATO_IP4)
    assert first.accepted == 3
    assert (again.accepted, again.unchanged, again.rejected) == (0, 3, 0)
    assert StixObject.objects.count() == count
    assert AuditEntry.objects.count() == audits + 1  # the attempt is audited, nothing was written


def test_versions_are_kept_and_exactly_one_is_current(jpn_user: Any) -> None:
    v1 = indicator("198.51.100.1", modified=T0)
    v3 = dict(v1, modified=T2, pattern="[ipv4-addr:value = '198.51.100.3']")
    v2 = dict(v1, modified=T1, pattern="[ipv4-addr:value = '198.51.100.2']")
    do_import_objects(jpn_user, [v1], NATO_IP4)
    assert values_of(v1["id"]) == {("ipv4-addr", "198.51.100.1")}
    do_import_objects(jpn_user, [v3, v2], NATO_IP4)  # out of order: the latest modified wins
    versions = rows(v1["id"])
    assert [r.modified for r in versions] == [T0, T1, T2]
    assert [r.is_current for r in versions] == [False, False, True]
    assert values_of(v1["id"]) == {("ipv4-addr", "198.51.100.3")}
    older = dict(v1, modified="2026-02-01T12:00:00Z")  # between v1 and v2
    assert do_import_objects(jpn_user, [older], NATO_IP4).accepted == 1
    assert current(v1["id"]).modified == T2


def test_same_instant_with_other_precision_is_not_newer(jpn_user: Any) -> None:
    v1 = indicator(modified="2026-02-01T00:00:27.5Z")
    v2 = dict(v1, modified="2026-02-01T00:00:27Z")
    do_import_objects(jpn_user, [v1, v2], NATO_IP4)
    assert current(v1["id"]).modified == "2026-02-01T00:00:27.5Z"


def test_only_the_originating_organisation_may_issue_new_versions(jpn_user: Any, kor_user: Any) -> None:
    v1 = indicator()
    do_import_objects(jpn_user, [v1], NATO_IP4)
    v2 = dict(v1, modified=T1, name="changed by Korea")
    summary = do_import_objects(kor_user, [v2], NATO_IP4)
    assert summary.accepted == 0
    assert summary.errors[0].reason == "only the originator may issue new versions"
    assert summary.rejected_by_reason == {"only the originator may issue new versions": 1}
    assert current(v1["id"]).modified == T0
    # The same version again from someone else is simply unchanged.
    assert do_import_objects(kor_user, [v1], NATO_IP4).unchanged == 1


def test_created_by_ref_may_not_change_between_versions(jpn_user: Any) -> None:
    v1 = indicator(created_by_ref="identity--6b616fc1-1505-48e3-8b2c-0d19337bff38")
    do_import_objects(jpn_user, [v1], NATO_IP4)
    v2 = dict(v1, modified=T1, created_by_ref="identity--7b616fc1-1505-48e3-8b2c-0d19337bff38")
    summary = do_import_objects(jpn_user, [v2], NATO_IP4)
    assert summary.errors[0].reason == "created_by_ref must not change between versions"
    v3 = dict(v1, modified=T2)
    assert do_import_objects(jpn_user, [v3], NATO_IP4).accepted == 1


def test_kizuna_label_marking_gives_the_label_even_when_it_comes_after_its_users(jpn_user: Any) -> None:
    marked = indicator(object_marking_refs=[label_marking_id(JPN_ONLY)])
    data = bundle([marked, label_extension_definition(), label_marking(JPN_ONLY)])
    summary = do_import_bundle(jpn_user, as_stream(data), "b.json", NATO_IP4)
    assert summary.rejected == 0, summary.errors
    assert label_of(current(marked["id"]).label) == JPN_ONLY
    assert label_of(current(label_marking_id(JPN_ONLY)).label) == JPN_ONLY


def test_kizuna_label_marking_already_in_the_store_is_found(jpn_user: Any) -> None:
    do_import_objects(jpn_user, [label_marking(JPN_ONLY)], NATO_IP4)
    marked = indicator(object_marking_refs=[label_marking_id(JPN_ONLY)])
    summary = do_import_objects(jpn_user, [marked], NATO_IP4)
    assert summary.accepted == 1
    assert label_of(current(marked["id"]).label) == JPN_ONLY


def test_tlp_marking_sets_the_tlp_of_the_default_label(jpn_user: Any) -> None:
    green = indicator(object_marking_refs=[TLP2_IDS[TLP.GREEN]])
    tlp1_red = indicator(object_marking_refs=["marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed"])
    summary = do_import_objects(jpn_user, [green, tlp1_red], NATO_IP4)
    assert summary.accepted == 2, summary.errors
    assert label_of(current(green["id"]).label).tlp is TLP.GREEN
    red = label_of(current(tlp1_red["id"]).label)
    assert red.tlp is TLP.RED and red.recipients == (f"org:{jpn_user.organisation.code}",)


def test_unknown_marking_rejects_the_object_with_the_reason(jpn_user: Any) -> None:
    unknown = "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ec"
    obj = indicator(object_marking_refs=[TLP2_IDS[TLP.AMBER], unknown])
    summary = do_import_bundle(jpn_user, as_stream(bundle([obj, malware()])), "b.json", NATO_IP4)
    assert summary.accepted == 1
    assert summary.errors[0].index == 0 and summary.errors[0].id == obj["id"]
    assert summary.errors[0].reason.startswith("unknown marking: " + unknown)
    assert not StixObject.objects.filter(stix_id=obj["id"]).exists()


def test_statement_marking_in_the_bundle_is_known_and_gives_no_label(jpn_user: Any) -> None:
    statement = {"type": "marking-definition", "spec_version": "2.1", "created": T0,
                 "id": "marking-definition--6b616fc1-1505-48e3-8b2c-0d19337bff38", "definition_type": "statement",
                 "definition": {"statement": "Copyright 2026 JPN"}}
    obj = indicator(object_marking_refs=[statement["id"]])
    summary = do_import_objects(jpn_user, [obj, statement], NATO_IP4)
    assert summary.accepted == 2
    assert label_of(current(obj["id"]).label) == NATO_IP4


def test_object_under_a_label_the_importer_could_not_see_is_rejected(kor_user: Any) -> None:
    marked = indicator(object_marking_refs=[label_marking_id(JPN_ONLY)])
    summary = do_import_objects(kor_user, [label_marking(JPN_ONLY), marked, malware()], NATO_IP4)
    assert summary.accepted == 1
    assert summary.rejected_by_reason == {"label not visible to the importer": 2}
    assert not StixObject.objects.filter(stix_id=marked["id"]).exists()


def test_default_label_the_importer_could_not_see_is_refused_up_front(kor_user: Any) -> None:
    with pytest.raises(ServiceError):
        do_import_objects(kor_user, [malware()], JPN_ONLY)


def test_viewer_may_not_import(make_user: Any) -> None:
    viewer = make_user("reader", "JPN", "JPN-MOD", role="viewer")
    with pytest.raises(ServiceError):
        do_import_objects(viewer, [malware()], NATO_IP4)


def test_custom_and_extension_defined_objects_are_kept_unchanged(jpn_user: Any) -> None:
    tactic = {"type": "x-mitre-tactic", "spec_version": "2.1", "id": "x-mitre-tactic--6b616fc1-1505-48e3-8b2c-0d19337bff38",
              "created": T0, "modified": T0, "name": "Plan", "x_mitre_shortname": "plan",
              "external_references": [{"source_name": "DISARM", "external_id": "TA01"}], "x_weight": 1.5}
    vessel = {"type": "vessel", "spec_version": "2.1", "id": "vessel--6b616fc1-1505-48e3-8b2c-0d19337bff38",
              "created": T0, "modified": T0, "name": "海星", "imo": 9321483, "flags": [None, True],
              "extensions": {"extension-definition--1d0a2f37-6d2c-4b4e-9a62-2f4b8e0f3d11": {"extension_type": "new-sdo"}}}
    raw = json.dumps(bundle([tactic, vessel]), ensure_ascii=False).encode("utf-8")
    summary = do_import_bundle(jpn_user, as_stream(raw), "custom.json", NATO_IP4)
    assert summary.accepted == 2, summary.errors
    for obj in (tactic, vessel):
        stored = current(obj["id"]).data
        assert stored == json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
        assert json.loads(stored) == obj


def test_broken_json_midway_keeps_the_batches_before_it(jpn_user: Any, monkeypatch: Any) -> None:
    monkeypatch.setattr("kizuna.threats.importer.BATCH_SIZE", 10)
    objects = [indicator(f"198.51.100.{i}") for i in range(25)]
    text = json.dumps(bundle(objects))
    cut = text.index(objects[22]["id"])  # inside the 23rd object
    summary = do_import_bundle(jpn_user, as_stream(text[:cut].encode() + b"\x00garbage"), "broken.json", NATO_IP4)
    assert summary.stream_error.startswith("the input is not valid JSON after 22 object(s)")
    assert summary.accepted == 22
    assert StixObject.objects.count() == 22


def test_not_a_bundle_is_reported_not_crashed(jpn_user: Any) -> None:
    summary = do_import_bundle(jpn_user, as_stream(b"[1, 2"), "x.json", NATO_IP4)
    assert summary.accepted == 0 and summary.stream_error
    summary = do_import_bundle(jpn_user, as_stream({"objects": {}}), "x.json", NATO_IP4)
    assert summary.stream_error.startswith("no objects found: expected a STIX 2.1 bundle")


PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10\x00\x00\x00\x10\x08\x06\x00\x00\x00"


class Unrewindable(io.RawIOBase):
    """An upload read as it arrives: no seek, and short reads."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        size = len(self.data) if size is None or size < 0 else min(size, 7)
        chunk, self.data = self.data[:size], self.data[size:]
        return chunk


@pytest.mark.parametrize(("data", "what"), [
    (PNG, "a PNG image"), (b"%PDF-1.7\n...", "a PDF document"), (b"PK\x03\x04rest", "a ZIP archive"),
    (b"<?xml version='1.0'?><stix:STIX_Package/>", "an XML or HTML document"), (b"hello, world", "text, but not JSON"),
    (b"", "empty"), (b"\x00\x01\x02\xfe", "binary data"),
])
def test_a_file_that_is_not_json_is_named_and_the_expected_input_said(jpn_user: Any, data: bytes, what: str) -> None:
    for stream in (as_stream(data), Unrewindable(data)):
        summary = do_import_bundle(jpn_user, stream, "upload.json", NATO_IP4)  # type: ignore[arg-type]
        assert summary.accepted == 0 and StixObject.objects.count() == 0
        assert summary.stream_error.startswith(f"the file is not JSON (it is {what}"), summary.stream_error
        assert "expected a STIX 2.1 bundle" in summary.stream_error
        assert "lexical" not in summary.stream_error and "\\x89" not in summary.stream_error


def test_json_that_is_a_single_value_is_refused_with_what_is_expected(jpn_user: Any) -> None:
    summary = do_import_bundle(jpn_user, as_stream(b' "indicator"'), "x.json", NATO_IP4)
    assert summary.stream_error.startswith("the file is JSON, but a single value, not an object")


def test_a_single_object_and_an_array_of_objects_import_as_a_bundle(jpn_user: Any) -> None:
    single = indicator("198.51.100.1")
    for stream in (as_stream(single), Unrewindable(json.dumps(single).encode())):
        summary = do_import_bundle(jpn_user, stream, "one.json", NATO_IP4)  # type: ignore[arg-type]
        assert not summary.stream_error and summary.accepted + summary.unchanged == 1
    assert StixObject.objects.filter(stix_id=single["id"]).exists()
    # "type" need not come first, and a UTF-8 byte order mark is skipped.
    late_type = {k: v for k, v in malware().items() if k != "type"} | {"type": "malware"}
    summary = do_import_bundle(jpn_user, as_stream(b"\xef\xbb\xbf" + json.dumps(late_type).encode()), "m.json",
                               NATO_IP4)
    assert summary.accepted == 1 and StixObject.objects.filter(stix_id=late_type["id"]).exists()
    # An array of objects: each answered by its index in the array.
    many = [indicator("198.51.100.2"), {"type": "indicator"}, indicator("198.51.100.3")]
    summary = do_import_bundle(jpn_user, as_stream(many), "many.json", NATO_IP4)
    assert (summary.accepted, summary.rejected) == (2, 1) and summary.errors[0].index == 1
    # A bundle whose "objects" come before its "type" is still a bundle.
    reordered = {"objects": [indicator("198.51.100.4")], "id": bundle([])["id"], "type": "bundle"}
    assert do_import_bundle(jpn_user, as_stream(reordered), "b.json", NATO_IP4).accepted == 1


def test_relationship_and_sighting_ends_and_observable_values_are_filled(jpn_user: Any) -> None:
    ind, mal = indicator(), malware()
    rel = relationship(ind["id"], mal["id"])
    sighting = {"type": "sighting", "spec_version": "2.1", "id": "sighting--6b616fc1-1505-48e3-8b2c-0d19337bff38",
                "created": T0, "modified": T0, "sighting_of_ref": ind["id"]}
    sco = {"type": "domain-name", "spec_version": "2.1", "id": "domain-name--6b616fc1-1505-48e3-8b2c-0d19337bff38",
           "value": "Evil.Example"}
    file = {"type": "file", "id": "file--6b616fc1-1505-48e3-8b2c-0d19337bff38", "hashes": {"SHA-256": "AB" * 32}}
    revoked = malware(revoked=True)
    summary = do_import_objects(jpn_user, [ind, mal, rel, sighting, sco, file, revoked], NATO_IP4)
    assert summary.accepted == 7, summary.errors
    r = current(rel["id"])
    assert (r.source_ref, r.target_ref) == (ind["id"], mal["id"])
    s = current(sighting["id"])
    assert (s.source_ref, s.target_ref) == (ind["id"], "")
    assert values_of(sco["id"]) == {("domain-name", "evil.example")}
    assert current(sco["id"]).modified == ""
    assert values_of(file["id"]) == {("file:SHA-256", "ab" * 32)}
    assert current(revoked["id"]).revoked is True


def test_complex_pattern_values_are_indexed_too(jpn_user: Any) -> None:
    ind = indicator(pattern="[ipv4-addr:value = '203.0.113.9'] FOLLOWEDBY [domain-name:value = 'a.example']")
    assert do_import_objects(jpn_user, [ind], NATO_IP4).accepted == 1
    assert values_of(ind["id"]) == {("ipv4-addr", "203.0.113.9"), ("domain-name", "a.example")}


def test_each_batch_is_audited_once(jpn_user: Any, monkeypatch: Any) -> None:
    monkeypatch.setattr("kizuna.threats.importer.BATCH_SIZE", 10)
    before = AuditEntry.objects.filter(action="import").count()
    do_import_objects(jpn_user, [indicator(f"198.51.100.{i}") for i in range(25)], NATO_IP4, "audit test")
    entries = list(AuditEntry.objects.filter(action="import").order_by("id"))[before:]
    assert [e.detail["accepted"] for e in entries] == [10, 10, 5]
    assert entries[0].actor == jpn_user.username and entries[0].target_type == "stix"


@pytest.mark.parametrize("name", sorted(p.name for p in EXAMPLES.glob("*.json") if p.name != "interop-objectmarking-test.json"))
def test_oasis_example_bundles_import(jpn_user: Any, name: str) -> None:
    with (EXAMPLES / name).open("rb") as stream:
        summary = do_import_bundle(jpn_user, stream, name, NATO_IP4)
    assert summary.rejected == 0, summary.errors
    assert summary.accepted > 0 and not summary.stream_error


@pytest.mark.skipif(not EXAMPLES.exists(), reason="the OASIS examples are not in ../shared/data")
def test_oasis_object_marking_example_is_rejected_for_its_unknown_marking(jpn_user: Any) -> None:
    obj = json.loads((EXAMPLES / "interop-objectmarking-test.json").read_text())
    summary = do_import_objects(jpn_user, [obj], NATO_IP4)
    assert summary.rejected == 1
    assert summary.errors[0].reason.startswith("unknown marking: marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ec")
