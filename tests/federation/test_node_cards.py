"""Joining two nodes by node cards (issue 13): the federation page gives this node's card as a file (id, name,
public keys, TAXII URL; nothing secret), the new-peer form fills itself in from a peer's card, and "Test connection"
tries the TAXII URL and credential as typed against a real server before anything is saved."""

from __future__ import annotations

import io
import json
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from kizuna.federation import cards, keys, peers
from kizuna.federation.models import Peer
from kizuna.federation.services import active_key, node_identity
from tests.cli.helpers import kizuna, kizuna_refused
from tests.federation.test_peer_pages import _client, _closed_port, _messages


@pytest.fixture
def admin(make_user: Callable[..., Any]) -> Any:
    return make_user("nadia", "BEL", "NATO-IS", role="admin")


def _other_card(url: str = "https://jpn.example/taxii2/kizuna/") -> dict[str, Any]:
    private, _kid = keys.generate()
    return {"format": cards.FORMAT, "id": f"identity--{uuid.uuid4()}", "name": "Japan MOD node", "nation": "JPN",
            "keys": [{"key_id": "k1", "public_key": keys.public_b64(keys.public_raw(private)), "retired": False}],
            "taxii_url": url}


@pytest.mark.django_db
def test_an_administrator_downloads_this_nodes_card_with_its_taxii_url(admin: Any, jpn_user: Any) -> None:
    response = _client(admin).get("/federation/card.json")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment; filename=") and ".kizuna-node.json" in response[
        "Content-Disposition"]
    card = json.loads(response.content)
    node = node_identity()
    assert card["format"] == cards.FORMAT and card["id"] == node.stix_id and card["name"] == node.name
    assert card["keys"][0]["public_key"] == active_key().public_key and card["keys"][0]["retired"] is False
    assert card["taxii_url"] == "http://testserver/taxii2/kizuna/"
    assert "private" not in response.content.decode().lower()
    assert _client(jpn_user).get("/federation/card.json").status_code == 404  # not an administrator: no such page
    assert "Download node card" in _client(admin).get("/federation/").content.decode()


@pytest.mark.django_db
def test_the_new_peer_form_fills_itself_in_from_an_uploaded_card(admin: Any) -> None:
    card = _other_card()
    upload = io.BytesIO(json.dumps(card).encode())
    upload.name = "japan-mod-node.kizuna-node.json"
    response = _client(admin).post("/federation/peers/new/", {"action": "card", "card_file": upload})
    assert response.status_code == 200
    form = response.context["form"]
    assert form.initial["node_id"] == card["id"] and form.initial["title"] == "Japan MOD node"
    assert form.initial["name"] == "japan-mod-node" and form.initial["nations"] == "JPN"
    assert form.initial["public_key"] == card["keys"][0]["public_key"]
    assert form.initial["taxii_url"] == "https://jpn.example/taxii2/kizuna/"
    body = response.content.decode()
    assert card["id"] in body and "Filled in from the node card of Japan MOD node" in body
    assert not Peer.objects.exists()  # nothing is saved until "Add peer"


@pytest.mark.django_db
def test_a_pasted_card_works_and_something_else_is_refused_in_one_line(admin: Any) -> None:
    client = _client(admin)
    card = _other_card()
    pasted = client.post("/federation/peers/new/", {"action": "card", "card_text": json.dumps(card)})
    assert pasted.status_code == 200 and pasted.context["form"].initial["node_id"] == card["id"]
    png = io.BytesIO(b"\x89PNG\r\n\x1a\n" + b"\0" * 64)
    png.name = "photo.png"
    refused = client.post("/federation/peers/new/", {"action": "card", "card_file": png})
    assert refused.status_code == 400
    errors = refused.context["card_form"].non_field_errors()
    assert errors == ["the node card photo.png is not JSON: export it again from the other node's federation page "
                      "(or 'kizuna node show --json')"]
    not_a_card = client.post("/federation/peers/new/", {"action": "card", "card_text": '{"type": "bundle"}'})
    assert not_a_card.status_code == 400
    assert "is not a Kizuna node card" in not_a_card.context["card_form"].non_field_errors()[0]
    nothing = client.post("/federation/peers/new/", {"action": "card"})
    assert nothing.status_code == 400
    assert nothing.context["card_form"].non_field_errors() == ["Choose the node card file, or paste the card."]


@pytest.mark.django_db(transaction=True)
def test_test_connection_tries_the_url_and_credential_as_typed_and_saves_nothing(admin: Any, live_server: Any) -> None:
    """Against a real TAXII server (this node, served by pytest-django's live server) with a token created for a peer
    there: the form says what it reached; with a wrong token or a closed port it says why, in one line."""
    served = peers.add_peer("ours", f"identity--{uuid.uuid4()}", nations=["NATO"], clearances={"NATO": "RESTRICTED"},
                            communities=[], public_keys=[], taxii_url="", credential="", title="", interval=300,
                            actor="nadia")
    token = peers.peer_token(served, actor="nadia")
    client = _client(admin)
    fields = {"action": "test", "name": "jpn-node", "node_id": f"identity--{uuid.uuid4()}", "nations": "JPN",
              "interval": "300", "taxii_url": f"{live_server.url}/taxii2/kizuna/", "credential": token}
    response = client.post("/federation/peers/new/", fields)
    assert response.status_code == 200
    [message] = _messages(response)
    assert message.startswith("Test: ") and "collection(s) readable" in message
    assert token in response.content.decode()  # the credential stays in the form for "Add peer"
    assert list(Peer.objects.values_list("name", flat=True)) == ["ours"]

    [wrong] = _messages(client.post("/federation/peers/new/", {**fields, "credential": "kz_not-a-token"}))
    assert wrong.startswith("Test failed: ") and "\n" not in wrong
    closed = {**fields, "taxii_url": f"http://127.0.0.1:{_closed_port()}/taxii2/kizuna/"}
    [unreachable] = _messages(client.post("/federation/peers/new/", closed))
    assert unreachable.startswith("Test failed: cannot reach the peer at 127.0.0.1:")
    [no_url] = _messages(client.post("/federation/peers/new/", {**fields, "taxii_url": ""}))
    assert no_url == "Give the peer's TAXII URL to test the connection."


@pytest.mark.django_db
def test_the_command_line_card_carries_the_url_and_peer_add_takes_it(admin: Any, tmp_path: Any,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    card = json.loads(kizuna("node", "show", "--json", "--url", "https://nato.example").out)
    assert card["taxii_url"] == "https://nato.example/taxii2/kizuna/" and card["format"] == cards.FORMAT
    other = tmp_path / "jpn.kizuna-node.json"
    other.write_text(json.dumps(_other_card("https://jpn.example:8443/taxii2/kizuna/")))
    monkeypatch.setenv("JPN_TOKEN", "kz_token-the-japanese-administrator-gave")
    kizuna("peer", "add", "jpn-node", "--from-card", str(other), "--nations", "JPN", "--credential-env", "JPN_TOKEN")
    peer = Peer.objects.get(name="jpn-node")
    assert peer.taxii_url == "https://jpn.example:8443/taxii2/kizuna/" and peer.title == "Japan MOD node"
    broken = tmp_path / "broken.json"
    broken.write_text("{")
    message, _run = kizuna_refused("peer", "add", "x-node", "--from-card", str(broken), "--nations", "JPN")
    assert message.startswith(f"the node card {broken} is not JSON")
