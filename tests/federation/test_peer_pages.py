"""The peer administration pages (/federation/) with Django's test client: admins only (others 404, anonymous to the
login page); adding a peer writes everything or nothing and shows its token once; the quarantine shows why, never
what; "test connection" against a closed port says so in one line; "sync now" refuses while a sync runs and
otherwise runs in a thread that records the peer's fault in the cursor."""

from __future__ import annotations

import json
import re
import socket
import uuid
from collections.abc import Callable
from datetime import timedelta
from html import unescape
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.utils import timezone

from kizuna.core.models import AuditEntry
from kizuna.directory.models import ApiToken, Organisation, User
from kizuna.directory.services import user_for_token
from kizuna.federation import keys, peers, sync, views
from kizuna.federation.models import Peer, QuarantinedObject, SyncCursor
from kizuna.federation.services import node_identity

MARKER = "SECRET-CONTENT-7f3a9c"


def _node_id() -> str:
    return f"identity--{uuid.uuid4()}"


def _public_key() -> str:
    private, _kid = keys.generate()
    return keys.public_b64(keys.public_raw(private))


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # closed again when the block ends: nothing listens there


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def admin(make_user: Callable[..., Any]) -> Any:
    return make_user("nadia", "BEL", "NATO-IS", role="admin")


@pytest.fixture
def peer(admin: Any) -> Peer:
    return peers.add_peer("jpn-node", _node_id(), nations=["JPN"], clearances={"NATO": "RESTRICTED"},
                          communities=["CYBER"], public_keys=[_public_key()],
                          taxii_url=f"http://127.0.0.1:{_closed_port()}/taxii2/kizuna/", credential="secret-token",
                          title="Japanese node", actor="nadia")


def _messages(response: Any) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


@pytest.mark.django_db
def test_admin_sees_identity_peers_and_status(admin: Any, peer: Peer) -> None:
    now = timezone.now()
    SyncCursor.objects.create(peer=peer, collection="6b697a75-6e61-4000-8000-000000000001",
                              last_attempt=now, last_success=now - timedelta(minutes=5), received=12, unchanged=3,
                              quarantined=2, errors=1, last_error="the peer did not answer within 30 s")
    response = _client(admin).get("/federation/")
    assert response.status_code == 200
    body = response.content.decode()
    node = node_identity()
    key = node.keys.get(retired_at__isnull=True)
    assert node.stix_id in body and key.key_id in body and key.public_key in body
    assert 'data-testid="peer-jpn-node"' in body and "Japanese node" in body
    table = body.split('data-testid="status-jpn-node"', 1)[1].split("</table>", 1)[0]
    assert ">12<" in table and ">3<" in table and "the peer did not answer within 30 s" in table
    assert "5\xa0minutes" in unescape(table)  # the lag, human readable
    assert 'data-testid="nav-federation"' in body
    assert 'data-testid="banner-top"' in body and 'data-testid="banner-bottom"' in body


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["viewer", "contributor", "coordinator"])
def test_other_roles_get_404_everywhere(make_user: Callable[..., Any], peer: Peer, role: str) -> None:
    client = _client(make_user(f"user-{role}", "JPN", "JPN-MOD", role=role))
    for url in ("/federation/", "/federation/peers/new/", "/federation/peers/jpn-node/"):
        assert client.get(url).status_code == 404, url
    for url in ("test", "sync", "enabled", "keys", "token"):
        assert client.post(f"/federation/peers/jpn-node/{url}/", {"enabled": "0"}).status_code == 404, url
    assert client.post("/federation/peers/new/", {"name": "x"}).status_code == 404
    assert Peer.objects.get().enabled and ApiToken.objects.filter(user=peer.account).count() == 0
    assert 'data-testid="nav-federation"' not in client.get("/account/").content.decode()


@pytest.mark.django_db
def test_anonymous_is_sent_to_login(peer: Peer) -> None:
    response = Client().get("/federation/peers/jpn-node/")
    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/federation/peers/jpn-node/"


def _form(**changes: Any) -> dict[str, Any]:
    data = {"name": "aus-node", "node_id": _node_id(), "title": "Australian node", "nations": "AUS, ip4",
            "clearance_NATO": "RESTRICTED", "communities": ["CYBER", "MARITIME"], "public_key": _public_key(),
            "taxii_url": "http://127.0.0.1:9/taxii2/kizuna", "credential": "their-token", "interval": "120"}
    data.update(changes)
    return data


@pytest.mark.django_db
def test_bad_node_id_shows_the_field_error_and_writes_nothing(admin: Any) -> None:
    before = (User.objects.count(), Organisation.objects.count(), ApiToken.objects.count(), AuditEntry.objects.count())
    response = _client(admin).post("/federation/peers/new/", _form(node_id="identity--not-a-uuid"))
    assert response.status_code == 400
    body = unescape(response.content.decode())
    errors = re.search(r'<ul class="errorlist" id="id_node_id_error">(.*?)</ul>', body, re.S)
    assert errors is not None and "the node id must be the peer's identity id" in errors.group(1)
    assert 'value="aus-node"' in body  # what was typed stays in the form
    assert not Peer.objects.exists()
    assert (User.objects.count(), Organisation.objects.count(), ApiToken.objects.count(),
            AuditEntry.objects.count()) == before


@pytest.mark.django_db
def test_unknown_clearance_level_is_refused_on_the_form(admin: Any) -> None:
    response = _client(admin).post("/federation/peers/new/", _form(clearance_NATO="COSMIC"))
    assert response.status_code == 400
    assert 'id="id_clearance_NATO_error"' in response.content.decode()
    assert not Peer.objects.exists()


@pytest.mark.django_db
def test_adding_a_peer_creates_it_and_shows_its_token_once(admin: Any) -> None:
    client = _client(admin)
    data = _form()
    response = client.post("/federation/peers/new/", data)
    assert response.status_code == 200
    peer = Peer.objects.get()
    assert (peer.name, peer.node_id, peer.nations, peer.clearances, peer.communities, peer.interval) == (
        "aus-node", data["node_id"], ["AUS", "IP4"], {"NATO": "RESTRICTED"}, ["CYBER", "MARITIME"], 120)
    assert peer.taxii_url == "http://127.0.0.1:9/taxii2/kizuna/" and peer.credential == "their-token"
    assert peer.keys.count() == 1
    body = response.content.decode()
    secret = re.search(r'<code id="new-token-secret">([^<]+)</code>', body)
    assert secret is not None
    assert user_for_token(secret.group(1)) == peer.account  # the token is the peer's, and it works
    assert "their-token" not in body  # the credential this node presents is never shown back
    assert AuditEntry.objects.filter(action="peer.add").count() == 1
    again = client.get("/federation/peers/aus-node/").content.decode()
    assert secret.group(1) not in again and 'data-testid="new-token"' not in again
    assert secret.group(1) not in client.get("/federation/").content.decode()


@pytest.mark.django_db
def test_quarantine_shows_verdict_and_reason_never_content(admin: Any, peer: Peer) -> None:
    now = timezone.now()
    rows = [QuarantinedObject(peer=peer, received_at=now - timedelta(seconds=i), stix_id=f"indicator--{uuid.uuid4()}",
                              stix_type="indicator", modified="2026-11-20T09:00:00.000Z", claimed_node=peer.node_id,
                              verdict="bad signature", reason=f"the signature does not verify (row {i})",
                              data=json.dumps({"type": "indicator", "name": f"{MARKER} {i}"}))
            for i in range(53)]
    QuarantinedObject.objects.bulk_create(rows)
    client = _client(admin)
    body = client.get("/federation/peers/jpn-node/").content.decode()
    assert MARKER not in body
    assert body.count('data-testid="verdict"') == 50
    assert "bad signature" in body and "the signature does not verify (row 0)" in body
    assert "(row 50)" not in body  # newest first: the oldest three are on the next page
    nxt = re.search(r'href="(/federation/peers/jpn-node/\?after=[^"#]+)', body)
    assert nxt is not None
    second = client.get(unescape(nxt.group(1))).content.decode()
    assert second.count('data-testid="verdict"') == 3 and "(row 52)" in second and MARKER not in second
    assert "53 objects in quarantine" in client.get("/federation/").content.decode()


@pytest.mark.django_db
def test_test_connection_to_a_closed_port_says_why(admin: Any, peer: Peer) -> None:
    response = _client(admin).post("/federation/peers/jpn-node/test/", {"from": "peer"})
    assert response.status_code == 302 and response["Location"] == "/federation/peers/jpn-node/"
    [message] = _messages(response)
    assert message.startswith("Test of jpn-node failed: cannot reach the peer at 127.0.0.1:")
    assert "\n" not in message


@pytest.mark.django_db
def test_sync_now_while_a_sync_runs_says_so(admin: Any, peer: Peer) -> None:
    lock = sync._lock_for(peer)
    assert lock.acquire(blocking=False)  # as a running sync (the worker's) holds it
    try:
        response = _client(admin).post("/federation/peers/jpn-node/sync/")
        assert response.status_code == 302
        assert _messages(response) == ["A sync of jpn-node is already running."]
        with pytest.raises(sync.SyncBusy):
            sync.sync_peer(peer)
    finally:
        lock.release()
    assert not SyncCursor.objects.exists()  # nothing was started


@pytest.mark.django_db(transaction=True)
def test_sync_now_runs_in_the_background_and_records_the_error(make_user: Callable[..., Any]) -> None:
    # A committed peer: the sync thread has its own database connection.
    make_user("nadia", "BEL", "NATO-IS", role="admin")
    peer = peers.add_peer("kor-node", _node_id(), nations=["KOR"], public_keys=[_public_key()],
                          taxii_url=f"http://127.0.0.1:{_closed_port()}/", credential="t", actor="test")
    client = _client(User.objects.get(username="nadia"))
    response = client.post("/federation/peers/kor-node/sync/")
    assert _messages(response) == ["Sync of kor-node started. Reload this page to see its progress."]
    assert views.wait_for_sync(peer, timeout=20)
    cursor = SyncCursor.objects.get(peer=peer)
    assert cursor.errors == 1 and cursor.last_error.startswith("cannot reach the peer")
    assert cursor.last_attempt is not None and cursor.last_success is None
    body = client.get("/federation/").content.decode()
    assert "cannot reach the peer" in body and 'class="row--failing"' in body


@pytest.mark.django_db
def test_disable_and_add_key_go_through_the_services(admin: Any, peer: Peer) -> None:
    client = _client(admin)
    response = client.post("/federation/peers/jpn-node/enabled/", {"enabled": "0"})
    assert response.status_code == 302
    peer.refresh_from_db()
    assert not peer.enabled and not peer.account.is_active
    assert AuditEntry.objects.filter(action="peer.update").count() == 1
    bad = client.post("/federation/peers/jpn-node/keys/", {"public_key": "not-a-key"})
    assert bad.status_code == 400 and "the public key must be a raw Ed25519 key" in unescape(bad.content.decode())
    assert peer.keys.count() == 1
    assert client.post("/federation/peers/jpn-node/keys/", {"public_key": _public_key()}).status_code == 302
    assert peer.keys.count() == 2 and AuditEntry.objects.filter(action="peer.add-key").count() == 1
    refused = client.post("/federation/peers/jpn-node/token/")
    assert "Peer jpn-node is disabled: enable it before giving it a new token." in _messages(refused)
    assert client.post("/federation/peers/jpn-node/enabled/", {"enabled": "1", "from": "peer"}).status_code == 302
    token_page = client.post("/federation/peers/jpn-node/token/").content.decode()
    assert 'data-testid="new-token"' in token_page and ApiToken.objects.filter(user=peer.account).count() == 1


@pytest.mark.django_db
def test_posts_need_the_csrf_token(admin: Any, peer: Peer) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin)
    assert client.post("/federation/peers/jpn-node/enabled/", {"enabled": "0"}).status_code == 403
    assert client.post("/federation/peers/new/", _form()).status_code == 403
    peer.refresh_from_db()
    assert peer.enabled and Peer.objects.count() == 1


@pytest.mark.django_db
def test_pages_render_in_japanese(admin: Any, peer: Peer) -> None:
    from django.conf import settings

    client = _client(admin)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ja"
    body = client.get("/federation/").content.decode()
    for text in ("ノード連携", "本ノード", "接続テスト", "今すぐ同期", "最終成功", "ピアを追加"):
        assert text in body, text
    form = client.post("/federation/peers/new/", _form(node_id="identity--x")).content.decode()
    assert "ノードIDには、「kizuna node show」が表示するピアの識別ID" in unescape(form)  # the service's refusal
    assert "Test connection" not in body
