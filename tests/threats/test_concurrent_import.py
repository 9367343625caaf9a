"""Versioning under concurrent imports (issue 12, item 2): four clients of two organisations post overlapping bundles
through the REST import endpoint of a running server at the same moment. No 5xx, every object answered (accepted,
unchanged, or refused with a reason), each (id, version line) with exactly one current version, no version by
another organisation in a line, every non-overlapping object stored.

Runs on PostgreSQL, and on SQLite when the test database is a file (``KIZUNA_TEST_FILE_DB=1``): the live server
shares the one connection of an in-memory SQLite database between its threads, which cannot hold concurrent
transactions at all."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections import defaultdict
from typing import Any

import pytest
from django.db import connection

from kizuna.directory.services import create_token
from kizuna.threats.models import StixObject
from tests.conftest import make_label

pytestmark = pytest.mark.django_db(transaction=True)

IP4 = make_label(releasable_to=["NATO", "IP4"])
T0 = "2026-02-01T00:00:00.000Z"
CLIENTS = 4
ROUNDS = 3


def _indicator(stix_id: str, modified: str, value: str) -> dict[str, Any]:
    return {"type": "indicator", "spec_version": "2.1", "id": stix_id, "created": T0, "modified": modified,
            "name": f"Bad address {value}", "pattern": f"[ipv4-addr:value = '{value}']", "pattern_type": "stix",
            "valid_from": T0}


def _post(url: str, secret: str, body: bytes) -> tuple[int, Any]:
    request = urllib.request.Request(url, data=body, method="POST", headers={
        "Authorization": f"Bearer {secret}", "Content-Type": "application/stix+json"})
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()[:500]


@pytest.fixture
def file_database() -> None:
    if connection.vendor == "sqlite" and connection.is_in_memory_db():
        pytest.skip("the live server shares one in-memory SQLite connection between threads: "
                    "run with KIZUNA_TEST_FILE_DB=1 (or on PostgreSQL)")


def test_concurrent_overlapping_imports_keep_one_current_version_per_line(
        file_database: None, live_server: Any, make_user: Any) -> None:
    users = [make_user("hanako", "JPN", "JPN-MOD"), make_user("taro", "JPN", "JPN-MOD"),
             make_user("minjun", "KOR", "KOR-MND"), make_user("jiwoo", "KOR", "KOR-MND")]
    secrets = [create_token(u)[1] for u in users]
    url = f"{live_server.url}/api/v1/stix/bundles?label=" + urllib.parse.quote(json.dumps(IP4.as_api()))
    own_ids: list[set[str]] = [set() for _ in range(CLIENTS)]
    failures: list[str] = []

    for round_number in range(ROUNDS):
        # Overlap: ids every client posts, with the same version (a unique violation on main) and with a version
        # of its own (several current versions on main); and ids only this client posts.
        same = [f"indicator--{uuid.uuid4()}" for _ in range(40)]
        differing = [f"indicator--{uuid.uuid4()}" for _ in range(40)]
        bodies: list[bytes] = []
        for client in range(CLIENTS):
            mine = [f"indicator--{uuid.uuid4()}" for _ in range(30)]
            own_ids[client].update(mine)
            objects = ([_indicator(i, T0, f"10.0.{n}.1") for n, i in enumerate(same)]
                       + [_indicator(i, f"2026-02-0{client + 2}T00:00:00.000Z", f"10.1.{n}.{client}")
                          for n, i in enumerate(differing)]
                       + [_indicator(i, T0, f"10.2.{n}.{client}") for n, i in enumerate(mine)])
            # Each client in its own order: the ids of one batch are met in different orders by different writers.
            objects = objects[client * 7:] + objects[:client * 7]
            bodies.append(json.dumps({"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": objects}).encode())
        barrier = threading.Barrier(CLIENTS)
        answers: list[tuple[int, Any] | None] = [None] * CLIENTS

        def run(client: int, bodies: list[bytes] = bodies, barrier: threading.Barrier = barrier,
                answers: list[tuple[int, Any] | None] = answers) -> None:
            barrier.wait()
            answers[client] = _post(url, secrets[client], bodies[client])

        threads = [threading.Thread(target=run, args=(c,)) for c in range(CLIENTS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=180)
        for client, answer in enumerate(answers):
            assert answer is not None, f"round {round_number}, client {client}: no answer"
            status, summary = answer
            if status != 200:
                failures.append(f"round {round_number}, client {client}: HTTP {status} {summary!r}")
                continue
            sent = 40 + 40 + 30
            answered = summary["accepted"] + summary["unchanged"] + summary["rejected"]
            if answered != sent:
                failures.append(f"round {round_number}, client {client}: {answered} of {sent} answered: {summary}")
            reasons = set(summary["rejected_by_reason"])
            if not reasons <= {"only the originator may issue new versions"}:
                failures.append(f"round {round_number}, client {client}: refused for {reasons}: {summary['errors'][:3]}")
    assert not failures, "\n".join(failures)

    rows = list(StixObject.objects.values_list("stix_id", "line", "is_current", "originator_id"))
    current: dict[tuple[str, int], int] = defaultdict(int)
    originators: dict[tuple[str, int], set[int]] = defaultdict(set)
    for stix_id, line, is_current, originator_id in rows:
        current[(stix_id, line)] += int(is_current)
        originators[(stix_id, line)].add(originator_id)
    several = {key: n for key, n in current.items() if n != 1}
    assert not several, f"lines without exactly one current version: {list(several.items())[:5]}"
    mixed = {key: o for key, o in originators.items() if len(o) > 1}
    assert not mixed, f"lines with versions by several organisations: {list(mixed.items())[:5]}"
    stored = {stix_id for stix_id, *_ in rows}
    for client, ids in enumerate(own_ids):
        assert ids <= stored, f"client {client}: {len(ids - stored)} of its own objects lost"
