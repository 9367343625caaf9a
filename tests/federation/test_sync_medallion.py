"""Kizuna's sync client pulling from a real TAXII 2.1 server: OASIS ``medallion`` (memory backend) running in this
process on a free port, fed through the OASIS ``taxii2-client``. Objects are signed by a "remote node" key the test
makes; the client pages through medallion's server-side ``next``, verifies each signature, fetches the label
marking it does not know, stores what verifies under the label it carries and quarantines the rest."""

from __future__ import annotations

import base64
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from taxii2client.v21 import Collection
from werkzeug.serving import make_server

from kizuna.federation import keys, peers, signing, sync
from kizuna.federation.models import Peer, QuarantinedObject, SyncCursor
from kizuna.threats.markings import label_marking, label_marking_id
from kizuna.threats.models import StixObject
from tests.conftest import make_label

pytestmark = pytest.mark.django_db

API_ROOT = "trustgroup1"
COLLECTION = "91a7b528-80eb-42ed-a74d-c6fbd5a26116"
SHARED = make_label(releasable_to=["NATO", "IP4"])
USER, PASSWORD = "kizuna", "medallion-test-pass"
_APP_LOCK = threading.Lock()
_app: Any = None


def _medallion_app() -> Any:
    """medallion's Flask app (a module-level singleton in medallion: blueprints are registered once)."""
    global _app
    with _APP_LOCK:
        if _app is None:
            import medallion

            medallion.set_config(medallion.application_instance, "users", {"users": {USER: PASSWORD}})
            medallion.set_config(medallion.application_instance, "taxii", {"taxii": {"max_page_size": 100}})
            medallion.register_blueprints(medallion.application_instance)
            _app = medallion.application_instance
        return _app


def _data(base: str) -> dict[str, Any]:
    return {
        "/discovery": {"title": "medallion test", "default": f"{base}/{API_ROOT}/",
                       "api_roots": [f"{base}/{API_ROOT}/"]},
        API_ROOT: {
            "information": {"title": "trust group", "versions": ["application/taxii+json;version=2.1"],
                            "max_content_length": 50_000_000},
            "status": [],
            "collections": [{
                "id": COLLECTION, "title": "shared", "can_read": True, "can_write": True,
                "media_types": ["application/stix+json;version=2.1"], "objects": [], "manifest": [],
            }],
        },
    }


@pytest.fixture
def medallion() -> Iterator[str]:
    """A fresh medallion TAXII server; yields its API root URL."""
    from medallion.backends.memory_backend import MemoryBackend

    app = _medallion_app()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    base = f"http://127.0.0.1:{server.server_port}"
    backend = MemoryBackend()
    backend.data = _data(base)
    app.medallion_backend = backend
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"{base}/{API_ROOT}/"
    finally:
        server.shutdown()


class RemoteNode:
    """A node elsewhere: its identity and key, signing what it publishes."""

    def __init__(self) -> None:
        self.id = f"identity--{uuid.uuid4()}"
        self.key = Ed25519PrivateKey.generate()
        self.raw = keys.public_raw(self.key)
        self.kid = keys.key_id(self.raw)

    @property
    def public_b64(self) -> str:
        return base64.b64encode(self.raw).decode()

    def sign(self, obj: dict[str, Any]) -> dict[str, Any]:
        return signing.sign_with(obj, self.id, self.kid, self.key)


def indicator(n: int, label_marking_ref: str | None, modified: str = "2026-03-01T00:00:00.000Z",
              stix_id: str | None = None, **extra: Any) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "type": "indicator", "spec_version": "2.1", "id": stix_id or f"indicator--{uuid.uuid4()}",
        "created": "2026-03-01T00:00:00.000Z", "modified": modified, "name": f"C2 server {n}",
        "pattern": f"[ipv4-addr:value = '198.51.100.{n % 250}']", "pattern_type": "stix",
        "valid_from": "2026-03-01T00:00:00Z", **extra,
    }
    if label_marking_ref:
        obj["object_marking_refs"] = [label_marking_ref]
    return obj


def post(url: str, objects: list[dict[str, Any]]) -> None:
    collection = Collection(f"{url}collections/{COLLECTION}/", user=USER, password=PASSWORD)
    status = collection.add_objects({"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": objects})
    assert status.failure_count == 0


def add_remote_peer(name: str, node: RemoteNode, url: str, make_user: Any) -> Peer:
    make_user("hanako")  # the directory (nations and groups) exists
    return peers.add_peer(name, node.id, nations=["JPN"], clearances={"NATO": "RESTRICTED"},
                          communities=["CYBER"], public_keys=[node.public_b64], taxii_url=url,
                          credential=f"{USER}:{PASSWORD}", actor="test")


@pytest.fixture
def remote(medallion: str, make_user: Any) -> tuple[RemoteNode, Peer]:
    node = RemoteNode()
    peer = add_remote_peer("remote", node, medallion, make_user)
    peer.collections = [COLLECTION]
    peer.save()
    return node, peer


def test_pulls_every_page_from_medallion_verifies_and_stores_under_the_carried_label(
        medallion: str, remote: tuple[RemoteNode, Peer]) -> None:
    node, peer = remote
    mid = label_marking_id(SHARED)
    good = [node.sign(indicator(i, mid)) for i in range(250)]  # three pages of medallion's 100
    post(medallion, [label_marking(SHARED), *good])

    [result] = sync.sync_peer(peer)

    assert result.ok, result.error
    assert result.pages == 3
    assert result.received == 250
    rows = StixObject.objects.filter(stix_id__in=[o["id"] for o in good])
    assert rows.count() == 250
    assert {r.originator_id for r in rows} == {peer.organisation_id}
    assert {r.label.to_label() for r in rows.select_related("label")} == {SHARED}
    # Received objects are kept as received: the originator's signature still verifies on the stored text.
    import json

    stored = json.loads(rows.first().data)  # type: ignore[union-attr]
    assert signing.verify_object(stored, {node.kid: node.raw}).ok


def test_a_second_sync_stores_nothing_twice_and_picks_up_only_what_is_new(
        medallion: str, remote: tuple[RemoteNode, Peer]) -> None:
    node, peer = remote
    mid = label_marking_id(SHARED)
    post(medallion, [label_marking(SHARED), *[node.sign(indicator(i, mid)) for i in range(120)]])
    [first] = sync.sync_peer(peer)
    assert first.received == 120
    post(medallion, [node.sign(indicator(i, mid)) for i in range(7)])

    [second] = sync.sync_peer(peer)

    assert second.ok, second.error
    assert second.received == 7
    assert StixObject.objects.filter(originator_id=peer.organisation_id).count() == 127
    cursor = SyncCursor.objects.get(peer=peer, collection=COLLECTION)
    assert cursor.received == 127 and cursor.next_token == "" and cursor.added_after is not None


def test_unsigned_badly_signed_unknown_origin_and_unlabelled_objects_are_quarantined_not_stored(
        medallion: str, remote: tuple[RemoteNode, Peer]) -> None:
    node, peer = remote
    mid = label_marking_id(SHARED)
    stranger = RemoteNode()
    tampered = node.sign(indicator(1, mid))
    tampered["name"] = "changed on the way"
    unsigned = indicator(2, mid)
    foreign = stranger.sign(indicator(3, mid))
    unlabelled = node.sign(indicator(4, None))
    fine = node.sign(indicator(5, mid))
    post(medallion, [label_marking(SHARED), tampered, unsigned, foreign, unlabelled, fine])

    [result] = sync.sync_peer(peer)

    assert result.ok, result.error
    assert result.received == 1
    verdicts = dict(QuarantinedObject.objects.filter(peer=peer).values_list("stix_id", "verdict"))
    assert verdicts == {tampered["id"]: sync.VERDICT_BAD_SIGNATURE, unsigned["id"]: sync.VERDICT_UNSIGNED,
                        foreign["id"]: sync.VERDICT_UNKNOWN_NODE, unlabelled["id"]: sync.VERDICT_NO_LABEL}
    assert not StixObject.objects.filter(stix_id__in=list(verdicts)).exists()
    assert StixObject.objects.filter(stix_id=fine["id"]).exists()
    # Quarantine is kept once even when the page is read again.
    SyncCursor.objects.filter(peer=peer).update(added_after=None, next_token="")
    sync.sync_peer(peer)
    assert QuarantinedObject.objects.filter(peer=peer).count() == 4


def test_only_the_originating_node_may_issue_new_versions_and_revocation_propagates(
        medallion: str, remote: tuple[RemoteNode, Peer], make_user: Any) -> None:
    node, peer = remote
    other = RemoteNode()
    other_peer = peers.add_peer("other", other.id, nations=["AUS"], clearances={"NATO": "RESTRICTED"},
                                public_keys=[other.public_b64], actor="test")  # keys only, never pulled
    mid = label_marking_id(SHARED)
    first = node.sign(indicator(1, mid))
    post(medallion, [label_marking(SHARED), first])
    sync.sync_peer(peer)

    update = node.sign(indicator(1, mid, modified="2026-03-02T00:00:00.000Z", stix_id=first["id"]))
    forged = other.sign(indicator(1, mid, modified="2026-03-03T00:00:00.000Z", stix_id=first["id"]))
    post(medallion, [update, forged])
    [result] = sync.sync_peer(peer)

    current = StixObject.objects.get(stix_id=first["id"], is_current=True)
    assert current.modified == "2026-03-02T00:00:00.000Z"
    refused = QuarantinedObject.objects.get(stix_id=first["id"])
    assert refused.verdict == sync.VERDICT_REFUSED and refused.claimed_node == other.id
    assert other_peer.organisation_id != current.originator_id

    revoked = node.sign(indicator(1, mid, modified="2026-03-04T00:00:00.000Z", stix_id=first["id"], revoked=True))
    post(medallion, [revoked])
    sync.sync_peer(peer)
    current = StixObject.objects.get(stix_id=first["id"], is_current=True)
    assert current.revoked is True and current.modified == "2026-03-04T00:00:00.000Z"
    assert result.ok


def test_a_peer_that_is_down_leaves_the_cursor_and_the_next_sync_retries(
        medallion: str, remote: tuple[RemoteNode, Peer]) -> None:
    node, peer = remote
    mid = label_marking_id(SHARED)
    post(medallion, [label_marking(SHARED), *[node.sign(indicator(i, mid)) for i in range(5)]])
    url = peer.taxii_url
    peer.taxii_url = "http://127.0.0.1:9/taxii/"  # the discard port: nothing listens
    peer.save()

    [down] = sync.sync_peer(peer)

    assert not down.ok and "cannot reach the peer" in down.error
    cursor = SyncCursor.objects.get(peer=peer)
    assert cursor.added_after is None and cursor.errors == 1 and cursor.last_error
    peer.taxii_url = url
    peer.save()
    [again] = sync.sync_peer(peer)
    assert again.ok and again.received == 5
    cursor.refresh_from_db()
    assert cursor.errors == 0 and cursor.last_error == "" and cursor.last_success is not None


def test_pages_checked_in_worker_processes_give_the_same_outcome(
        medallion: str, remote: tuple[RemoteNode, Peer], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sync, "PROCESS_THRESHOLD", 1)  # what large pages do: spawned processes verify and prepare
    node, peer = remote
    mid = label_marking_id(SHARED)
    good = [node.sign(indicator(i, mid)) for i in range(40)]
    tampered = node.sign(indicator(99, mid))
    tampered["pattern"] = "[ipv4-addr:value = '203.0.113.1']"
    invalid = node.sign(indicator(98, mid, pattern="[ipv4-addr:value = "))  # signed, but not a valid pattern
    post(medallion, [label_marking(SHARED), *good, tampered, invalid])

    [result] = sync.sync_peer(peer)

    assert result.ok, result.error
    assert result.received == 40
    verdicts = dict(QuarantinedObject.objects.filter(peer=peer).values_list("stix_id", "verdict"))
    assert verdicts == {tampered["id"]: sync.VERDICT_BAD_SIGNATURE, invalid["id"]: sync.VERDICT_INVALID}
    assert StixObject.objects.filter(stix_id__in=[o["id"] for o in good], originator_id=peer.organisation_id,
                                     is_current=True).count() == 40
