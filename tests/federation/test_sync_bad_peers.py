"""A peer that misbehaves: malformed JSON, a page that lies about ``more``, an object too large, an HTTP error, a
peer that is slow. Each gives a logged error (on the cursor and in the audit log), leaves the cursor where it was,
stores nothing of the bad page, and the next sync — once the peer behaves — gets everything.

The misbehaving peer is a small real HTTP server in this process that answers as the test tells it to."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from kizuna.core.models import AuditEntry
from kizuna.federation import peers, sync
from kizuna.federation.models import Peer, SyncCursor
from kizuna.threats.markings import label_marking, label_marking_id
from kizuna.threats.models import StixObject
from tests.federation.test_sync_medallion import SHARED, RemoteNode, indicator

pytestmark = pytest.mark.django_db

COLLECTION = "6b697a75-6e61-4000-8000-000000000001"


class Behaviour:
    def __init__(self, node: RemoteNode) -> None:
        self.mode = "good"
        self.marking = label_marking(SHARED)
        mid = label_marking_id(SHARED)
        self.objects = [node.sign(indicator(i, mid)) for i in range(30)]
        self.requests = 0

    def answer(self, path: str, query: dict[str, list[str]]) -> tuple[int, bytes]:
        self.requests += 1
        if "/objects/marking-definition--" in path:
            return 200, json.dumps({"objects": [self.marking]}).encode()
        mode = self.mode
        start = int(query.get("next", ["0"])[0])
        limit = int(query.get("limit", ["10"])[0])
        chunk = self.objects[start : start + limit]
        more = start + limit < len(self.objects)
        if mode == "malformed":
            return 200, b'{"more": false, "objects": [{"type": "indicator", '
        if mode == "no-next":
            return 200, json.dumps({"more": True, "objects": chunk}).encode()
        if mode == "same-page":  # says more, but always serves the first page
            return 200, json.dumps({"more": True, "next": str(start + 1), "objects": self.objects[:limit]}).encode()
        if mode == "not-envelope":
            return 200, json.dumps([1, 2, 3]).encode()
        if mode == "too-large":
            big = dict(chunk[0], description="x" * (2 * 1024 * 1024))
            return 200, json.dumps({"more": False, "objects": [big, *chunk[1:]]}).encode()
        if mode == "deep":
            return 200, b'{"more": false, "objects": [{"x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}]}"
        if mode == "long-string":
            big = dict(chunk[0], description="x" * (1024 * 1024 + 10))
            return 200, json.dumps({"more": False, "objects": [big, *chunk[1:]]}).encode()
        if mode == "error":
            return 500, json.dumps({"title": "Internal error", "http_status": "500"}).encode()
        if mode == "slow":
            time.sleep(2.0)
        body: dict[str, Any] = {"more": more, "objects": chunk}
        if more:
            body["next"] = str(start + limit)
        return 200, json.dumps(body).encode()


@pytest.fixture
def bad_peer(make_user: Any) -> Iterator[tuple[Behaviour, Peer]]:
    node = RemoteNode()
    behaviour = Behaviour(node)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            status, body = behaviour.answer(parts.path, parse_qs(parts.query))
            self.send_response(status)
            self.send_header("Content-Type", "application/taxii+json;version=2.1")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            try:
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up waiting (the slow peer): expected

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    make_user("hanako")
    peer = peers.add_peer("shaky", node.id, nations=["JPN"], clearances={"NATO": "RESTRICTED"},
                          public_keys=[node.public_b64], taxii_url=f"http://127.0.0.1:{server.server_port}/root/",
                          credential="kz_test-token", actor="test")
    try:
        yield behaviour, peer
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize(("mode", "message"), [
    ("malformed", "not valid JSON"),
    ("no-next", "gives no next"),
    ("same-page", "same page again"),
    ("not-envelope", "not a TAXII envelope"),
    ("too-large", "larger than"),
    ("deep", "nested more than 100 levels deep"),
    ("long-string", "string larger than"),
    ("error", "HTTP 500"),
    ("slow", "did not answer within"),
])
def test_a_bad_answer_is_a_logged_error_the_cursor_stays_and_the_next_sync_gets_everything(
        bad_peer: tuple[Behaviour, Peer], mode: str, message: str) -> None:
    behaviour, peer = bad_peer
    behaviour.mode = mode
    before = StixObject.objects.count()

    results = sync.sync_peer(peer, page_limit=10, timeout=0.5)

    [result] = results
    assert not result.ok and message in result.error
    cursor = SyncCursor.objects.get(peer=peer, collection=COLLECTION)
    assert (cursor.next_token, cursor.added_after) == ("", None) or mode == "same-page"
    assert cursor.errors == 1 and message in cursor.last_error
    assert AuditEntry.objects.filter(action="federation.sync-error").exists()
    if mode != "same-page":
        assert StixObject.objects.count() == before  # nothing of the bad page is stored

    behaviour.mode = "good"
    [again] = sync.sync_peer(peer, page_limit=10, timeout=5)

    assert again.ok, again.error
    ids = {o["id"] for o in behaviour.objects}
    assert StixObject.objects.filter(stix_id__in=ids).count() == len(ids)  # every object once, none lost
    cursor.refresh_from_db()
    assert cursor.errors == 0 and cursor.last_error == "" and cursor.next_token == ""


def test_a_page_that_says_more_keeps_its_next_in_the_cursor_until_the_walk_ends(
        bad_peer: tuple[Behaviour, Peer]) -> None:
    _behaviour, peer = bad_peer

    [partial] = sync.sync_peer(peer, page_limit=10, max_pages=2)

    assert partial.ok and partial.received == 20
    cursor = SyncCursor.objects.get(peer=peer)
    assert cursor.next_token == "20"  # resumes after the two stored pages
    [rest] = sync.sync_peer(peer, page_limit=10)
    assert rest.ok and rest.received == 10 and rest.pages == 1
    cursor.refresh_from_db()
    assert cursor.next_token == ""
