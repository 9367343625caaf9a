"""The import of a large bundle parses in a separate process (``importer._run_parallel``): the same bundle gives the
same result as the import in one process — versions across batches with one current, the originator rule, markings
after their users (set aside and resolved at the end), rejections with index, id and reason, broken JSON midway,
one audit entry per batch, a second import unchanged. Both paths run here by lowering the size thresholds."""

from __future__ import annotations

import json
from typing import Any

import pytest

from kizuna.core.access import label_of
from kizuna.core.models import AuditEntry
from kizuna.threats.markings import label_extension_definition, label_marking, label_marking_id
from kizuna.threats.models import StixObject
from kizuna.threats.services import do_import_bundle
from tests.conftest import make_label
from tests.threats.test_import_fixtures import T0, T1, T2, as_stream, bundle, current, indicator, malware, rows, values_of

JPN_ONLY = make_label(releasable_to=["JPN"])
NATO_IP4 = make_label(releasable_to=["NATO", "IP4"])


@pytest.fixture(params=["here", "parallel"])
def mode(request: Any, monkeypatch: Any) -> str:
    monkeypatch.setattr("kizuna.threats.importer.BATCH_SIZE", 10)
    threshold = 0 if request.param == "parallel" else 10**12
    monkeypatch.setattr("kizuna.threats.importer.PARALLEL_MIN_BYTES", threshold)
    return str(request.param)


def test_mixed_bundle_gives_the_same_result_both_ways(jpn_user: Any, kor_user: Any, mode: str) -> None:
    theirs = indicator("192.0.2.1")
    do_import_bundle(kor_user, as_stream(bundle([theirs])), "korea.json", NATO_IP4)
    v1 = indicator("198.51.100.1", modified=T0)
    v2 = dict(v1, modified=T1, pattern="[ipv4-addr:value = '198.51.100.2']")
    v3 = dict(v1, modified=T2, pattern="[ipv4-addr:value = '198.51.100.3']")
    marked = indicator("198.51.100.77", object_marking_refs=[label_marking_id(JPN_ONLY)])
    filler = [indicator(f"203.0.113.{i}") for i in range(30)]
    objects: list[Any] = [
        v1, marked, *filler[:12], v3, "not an object", *filler[12:24],
        dict(theirs, modified=T1, name="taken over"),  # another organisation's id: refused
        indicator(pattern="[ipv4-addr:value = '1.2.3.4'"),  # broken pattern
        v2, *filler[24:], label_extension_definition(), label_marking(JPN_ONLY), malware(),
    ]
    summary = do_import_bundle(jpn_user, as_stream(bundle(objects)), "mixed.json", NATO_IP4)
    assert summary.accepted == len(objects) - 3, summary.errors
    assert [(e.index, e.reason.split(":")[0]) for e in summary.errors] == [
        (15, "not a JSON object"), (28, "only the originator may issue new versions"), (29, "pattern")]
    assert summary.errors[1].id == theirs["id"]
    assert [r.is_current for r in rows(v1["id"])] == [False, False, True]
    assert values_of(v1["id"]) == {("ipv4-addr", "198.51.100.3")}
    assert label_of(current(marked["id"]).label) == JPN_ONLY
    assert current(theirs["id"]).modified == T0
    assert json.loads(current(filler[5]["id"]).data) == filler[5]
    assert not summary.stream_error

    audits = AuditEntry.objects.count()
    again = do_import_bundle(jpn_user, as_stream(bundle(objects)), "mixed.json", NATO_IP4)
    assert (again.accepted, again.unchanged, again.rejected) == (0, len(objects) - 3, 3)
    assert AuditEntry.objects.count() > audits  # every batch of the attempt is audited, nothing written


def test_broken_json_midway_keeps_what_came_before(jpn_user: Any, mode: str) -> None:
    objects = [indicator(f"198.51.100.{i}") for i in range(25)]
    text = json.dumps(bundle(objects))
    cut = text.index(objects[22]["id"])
    summary = do_import_bundle(jpn_user, as_stream(text[:cut].encode() + b"\x00garbage"), "broken.json", NATO_IP4)
    assert summary.stream_error.startswith("the input is not valid JSON after 22 object(s)")
    assert summary.accepted == 22 == StixObject.objects.count()


def test_each_batch_is_audited_once(jpn_user: Any, mode: str) -> None:
    before = AuditEntry.objects.filter(action="import").count()
    objects = [indicator(f"198.51.100.{i}") for i in range(25)]
    do_import_bundle(jpn_user, as_stream(bundle(objects)), "audit.json", NATO_IP4)
    entries = list(AuditEntry.objects.filter(action="import").order_by("id"))[before:]
    assert [e.detail["accepted"] for e in entries] == [10, 10, 5]


def test_not_a_bundle_is_reported(jpn_user: Any, mode: str) -> None:
    assert do_import_bundle(jpn_user, as_stream(b"[1, 2"), "x.json", NATO_IP4).stream_error
    assert do_import_bundle(jpn_user, as_stream({"objects": {}}), "x.json", NATO_IP4).stream_error.startswith(
        "no objects found")
    assert do_import_bundle(jpn_user, as_stream(b"\x89PNG\r\n\x1a\n\x00"), "x.json", NATO_IP4).stream_error.startswith(
        "the file is not JSON (it is a PNG image)")


def test_a_single_object_and_an_array_import_as_a_bundle(jpn_user: Any, mode: str) -> None:
    one = malware()
    assert do_import_bundle(jpn_user, as_stream(one), "one.json", NATO_IP4).accepted == 1
    many = [indicator(f"198.51.100.{i}") for i in range(25)]
    summary = do_import_bundle(jpn_user, as_stream(many), "many.json", NATO_IP4)
    assert summary.accepted == 25 and not summary.stream_error
    assert StixObject.objects.count() == 26


@pytest.mark.django_db(transaction=True)
def test_large_import_outside_a_transaction_commits_as_it_goes(jpn_user: Any, monkeypatch: Any) -> None:
    from django.db import connection

    monkeypatch.setattr("kizuna.threats.importer.BATCH_SIZE", 10)
    monkeypatch.setattr("kizuna.threats.importer.PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr("kizuna.threats.importer.COMMIT_EVERY", 0)
    objects = [indicator(f"198.51.100.{i}") for i in range(35)]
    summary = do_import_bundle(jpn_user, as_stream(bundle(objects)), "big.json", NATO_IP4)
    assert summary.accepted == 35 == StixObject.objects.count()
    assert not connection.in_atomic_block
    if connection.vendor == "sqlite" and not connection.is_in_memory_db():
        with connection.cursor() as cursor:  # the checkpointer gave automatic checkpoints back
            cursor.execute("PRAGMA wal_autocheckpoint")
            assert cursor.fetchone()[0] == 1000


def test_without_a_parsing_process_the_import_runs_here(jpn_user: Any, monkeypatch: Any) -> None:
    monkeypatch.setattr("kizuna.threats.importer.PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr("kizuna.threats.importer.sys.executable", "/nonexistent/python")
    objects = [indicator(f"198.51.100.{i}") for i in range(5)]
    summary = do_import_bundle(jpn_user, as_stream(bundle(objects)), "b.json", NATO_IP4)
    assert summary.accepted == 5 and not summary.stream_error


def test_a_parsing_process_that_dies_fails_the_import_with_its_exit_status(jpn_user: Any, monkeypatch: Any) -> None:
    monkeypatch.setattr("kizuna.threats.importer.PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr("kizuna.threats.importer.sys.executable", "/bin/false")
    with pytest.raises(RuntimeError, match="parsing process stopped"):
        do_import_bundle(jpn_user, as_stream(bundle([indicator()])), "b.json", NATO_IP4)
    assert StixObject.objects.count() == 0
