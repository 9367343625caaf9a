"""Property and fuzz tests of the importer: random and corrupted bundles (truncated, bit-flipped, wrong types) never
crash it, never store an object without a label, and every count adds up (accepted + unchanged + rejected = objects
read). Plus streaming: a 50 MB bundle is imported with a memory peak far below its size."""

from __future__ import annotations

import copy
import json
import random
import tracemalloc
import uuid
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kizuna.threats.models import StixObject
from kizuna.threats.services import do_import_bundle, do_import_objects
from tests.conftest import make_label
from tests.threats.test_import_fixtures import T0, as_stream, bundle, indicator, malware, relationship

LABEL = make_label(releasable_to=["NATO", "IP4"])
HYPOTHESIS = settings(max_examples=40, deadline=None,
                      suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


def seed_objects(rng: random.Random, n: int) -> list[dict[str, Any]]:
    objects: list[dict[str, Any]] = []
    for i in range(n):
        kind = rng.randrange(4)
        if kind == 0:
            objects.append(indicator(f"198.51.100.{rng.randrange(256)}"))
        elif kind == 1:
            objects.append(malware(f"m{i}"))
        elif kind == 2 and objects:
            objects.append(relationship(objects[-1]["id"], rng.choice(objects)["id"]))
        else:
            objects.append({"type": "x-mitre-tactic", "spec_version": "2.1", "id": f"x-mitre-tactic--{uuid.uuid4()}",
                            "created": T0, "modified": T0, "name": f"tactic {i}"})
    return objects


def assert_store_consistent() -> None:
    # Every stored row has a label (the column is NOT NULL, but a row pointing nowhere would also be a failure),
    # and each stored id has exactly one current version.
    assert not StixObject.objects.filter(label__isnull=True).exists()
    assert StixObject.objects.filter(label__key="").count() == 0
    ids = set(StixObject.objects.values_list("stix_id", flat=True))
    assert StixObject.objects.filter(is_current=True).count() == len(ids)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=10), children, max_size=3),
    max_leaves=12,
)
PROPERTIES = ["type", "id", "spec_version", "created", "modified", "pattern", "pattern_type", "valid_from",
              "object_marking_refs", "granular_markings", "name", "is_family", "source_ref", "extensions", "revoked"]


@HYPOTHESIS
@given(data=st.data())
def test_objects_with_wrong_types_never_crash_nor_store_unlabelled(jpn_user: Any, data: st.DataObject) -> None:
    objects: list[Any] = []
    for base in (indicator(), malware(), relationship(indicator()["id"], malware()["id"])):
        obj = copy.deepcopy(base)
        for prop in data.draw(st.lists(st.sampled_from(PROPERTIES), max_size=3)):
            if data.draw(st.booleans()):
                obj[prop] = data.draw(JSON_VALUES)
            else:
                obj.pop(prop, None)
        objects.append(obj)
    objects.append(data.draw(JSON_VALUES))
    summary = do_import_objects(jpn_user, objects, LABEL)
    assert summary.accepted + summary.unchanged + summary.rejected == len(objects)
    assert sum(summary.rejected_by_reason.values()) == summary.rejected
    assert_store_consistent()


@HYPOTHESIS
@given(seed=st.integers(0, 2**32), cut=st.floats(0, 1), flips=st.integers(0, 8))
def test_truncated_and_bit_flipped_bundles_never_crash(jpn_user: Any, seed: int, cut: float, flips: int) -> None:
    rng = random.Random(seed)
    raw = bytearray(json.dumps(bundle(seed_objects(rng, 12))).encode())
    for _ in range(flips):
        pos = rng.randrange(len(raw))
        raw[pos] ^= 1 << rng.randrange(8)
    raw = raw[: max(1, int(len(raw) * cut))] if rng.random() < 0.5 else raw
    summary = do_import_bundle(jpn_user, as_stream(bytes(raw)), "fuzz.json", LABEL)
    assert summary.accepted >= 0 and summary.rejected >= 0
    assert sum(summary.rejected_by_reason.values()) == summary.rejected
    for error in summary.errors:
        assert isinstance(error.reason, str) and error.reason
    assert_store_consistent()


@HYPOTHESIS
@given(data=st.binary(max_size=300))
def test_random_bytes_never_crash(jpn_user: Any, data: bytes) -> None:
    summary = do_import_bundle(jpn_user, as_stream(b'{"type":"bundle","objects":[' + data), "fuzz.json", LABEL)
    assert summary.accepted + summary.rejected >= 0
    assert_store_consistent()


def test_markings_of_random_kinds_in_random_order_give_every_stored_object_a_label(jpn_user: Any) -> None:
    from kizuna.threats.markings import label_marking, label_marking_id

    rng = random.Random(4774)
    labels = [make_label(releasable_to=["JPN"]), make_label(releasable_to=["IP4"], communities=["CYBER"]),
              make_label(releasable_to=["KOR"])]
    objects: list[dict[str, Any]] = [label_marking(lbl) for lbl in labels]
    for i in range(300):
        refs = rng.sample([label_marking_id(lbl) for lbl in labels], rng.randrange(2))
        objects.append(indicator(f"203.0.113.{i % 256}", object_marking_refs=refs) if refs else malware(f"m{i}"))
    rng.shuffle(objects)
    summary = do_import_objects(jpn_user, objects, LABEL)
    assert summary.rejected_by_reason.keys() <= {"label not visible to the importer"}
    assert summary.accepted + summary.rejected == len(objects)
    assert_store_consistent()


def test_a_50_mb_bundle_is_streamed_with_memory_far_below_its_size(jpn_user: Any, tmp_path: Path) -> None:
    path = tmp_path / "big.json"
    filler = "x" * 1200  # fewer, larger objects: the test stays quick, the bytes are the same
    count = 0
    with path.open("w") as f:
        f.write('{"type": "bundle", "id": "bundle--6b616fc1-1505-48e3-8b2c-0d19337bff38", "objects": [')
        while f.tell() < 50_000_000:
            obj = indicator(f"10.{count // 65536 % 256}.{count // 256 % 256}.{count % 256}", description=filler)
            f.write(("," if count else "") + json.dumps(obj))
            count += 1
        f.write("]}")
    size = path.stat().st_size
    tracemalloc.start()
    try:
        with path.open("rb") as stream:
            summary = do_import_bundle(jpn_user, stream, "big.json", LABEL)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert summary.accepted == count and not summary.stream_error
    assert size >= 50_000_000
    assert peak < 30_000_000, f"peak {peak / 1e6:.1f} MB for a {size / 1e6:.0f} MB bundle"
