"""Consultations travel between real nodes, filtered by label like everything else: three ``kizuna serve`` processes
(a NATO hub, a Japanese node and a Korean node, each with its own data directory and database) configured through
the CLI; the hub's organiser writes a series and two meetings through the REST API — one REL TO NATO, JPN with its
agenda and a decision, one REL TO NATO, IP4 — and the national nodes pull with ``kizuna sync``.

The JPN node receives the Japan meeting and shows it to its users as a local, read-only meeting (REST API, label and
originator kept, its published decision with it); the KOR node never receives it — not in its store, not as a row —
while the meeting both may see reaches both, so KOR's sync demonstrably works."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.federation.nodes import Node, parallel

PASSWORD = "consultations-federation-4774"
USERS = {  # node key -> (username, nation, organisation)
    "hub": ("natalie", "GBR", "NATO-LOT"),
    "jpn": ("hanako", "JPN", "JPN-MOD"),
    "kor": ("minjun", "KOR", "KOR-MND"),
}


def label(*releasable_to: str) -> dict[str, Any]:
    return {"policy": "NATO", "classification": "UNCLASSIFIED", "categories": {"releasable_to": list(releasable_to)},
            "tlp": "AMBER", "recipients": []}


REL_NATO_JPN = label("NATO", "JPN")
REL_NATO_IP4 = label("NATO", "IP4")
START = (datetime.now(UTC) + timedelta(days=10)).replace(hour=7, minute=0, second=0, microsecond=0)
WINDOW = [("start", (START - timedelta(days=2)).isoformat()), ("end", (START + timedelta(days=2)).isoformat())]


@dataclass
class Federation:
    hub: Node
    jpn: Node
    kor: Node
    token: dict[str, str] = field(default_factory=dict)  # node key -> API token of that node's user
    made: dict[str, Any] = field(default_factory=dict)  # what the hub's organiser wrote


def send(node: Node, method: str, path: str, token: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
    """A write through the node's REST API (``Node.http`` reads only)."""
    request = urllib.request.Request(
        node.url + path, method=method, data=json.dumps(body or {}).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json", "Accept": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            text = response.read()
            return response.status, json.loads(text) if text else None
    except urllib.error.HTTPError as exc:
        text = exc.read()
        try:
            return exc.code, json.loads(text) if text else None
        except ValueError:
            return exc.code, text.decode(errors="replace")


def created(node: Node, path: str, token: str, body: dict[str, Any]) -> Any:
    status, answer = send(node, "POST", path, token, body)
    assert status in (200, 201), (path, status, answer)
    return answer


def _setup_node(node: Node) -> tuple[str, dict[str, Any]]:
    username, nation, org = USERS[node.key]
    node.cli("migrate", "--noinput")
    node.cli("user", "add", username, "--nation", nation, "--org", org, "--clearance", "NATO:RESTRICTED",
             "--role", "contributor", "--password", PASSWORD)
    token = node.last_line("token", "create", username, "--name", "consultations federation test")
    card = json.loads(node.cli("node", "show", "--json").stdout)
    node.start()
    return token, card


@pytest.fixture(scope="module")
def fed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Federation]:
    base = tmp_path_factory.mktemp("consultation-nodes")
    started: list[Node] = []
    try:
        for key, name, nation in (("hub", "NATO hub", ""), ("jpn", "Japan node", "JPN"), ("kor", "Korea node", "KOR")):
            started.append(Node(key, name, nation, base))
        fed = Federation(hub=started[0], jpn=started[1], kor=started[2])
        cards: dict[str, dict[str, Any]] = {}
        for node, (token, card) in zip(started, parallel(*[lambda n=n: _setup_node(n) for n in started]),
                                       strict=True):
            fed.token[node.key] = token
            cards[node.key] = card
            node.write("card.json", json.dumps(card))

        def pair(node: Node, nation: str) -> None:
            # On the hub: the national node is a peer entitled to its own nation. On the national node: the hub is
            # a peer entitled to NATO, pulled from with the token the hub issued.
            at_hub = fed.hub.last_line("peer", "add", node.key, "--from-card", str(node.data_dir / "card.json"),
                                       "--nations", nation, "--clearance", "NATO=RESTRICTED", "--token")
            credential = node.write("hub-credential", at_hub)
            node.cli("peer", "add", "hub", "--from-card", str(fed.hub.data_dir / "card.json"), "--nations", "NATO",
                     "--clearance", "NATO=RESTRICTED", "--url", fed.hub.taxii_root, "--credential-file",
                     str(credential))

        # One after the other: both write peers on the hub.
        pair(fed.jpn, "JPN")
        pair(fed.kor, "KOR")
        yield fed
    finally:
        errors = []
        for node in started:
            try:
                node.stop()
            except Exception as exc:  # the others are stopped all the same
                errors.append(f"{node.key}: {exc}")
        assert not errors, errors


def _write_on_hub(fed: Federation) -> None:
    """The hub's organiser: a series both may see, a Japan meeting with a published agenda item and decision, and a
    meeting for NATO and all IP4 partners."""
    hub, token = fed.hub, fed.token["hub"]
    api = "/api/v1/consultations"
    series = created(hub, f"{api}/series", token, {
        "title": "NATO–IP4 Space Dialogue", "label": REL_NATO_IP4, "time_zone": "Europe/Brussels",
        "focus_areas": ["space"], "nations": ["JPN", "KOR", "BEL"]})
    japan = created(hub, f"{api}/meetings", token, {
        "title": "NATO–Japan space situational awareness", "label": REL_NATO_JPN, "start": START.isoformat(),
        "end": (START + timedelta(hours=2)).isoformat(), "time_zone": "Asia/Tokyo", "mode": "virtual",
        "link": "https://vtc.example.org/ssa", "series": series["id"]})
    item = created(hub, f"{api}/meetings/{japan['id']}/agenda/items", token, {
        "title": "Debris tracking data exchange", "label": REL_NATO_JPN, "presenter": "JAXA liaison"})
    created(hub, f"{api}/meetings/{japan['id']}/agenda/publish", token, {})
    decision = created(hub, f"{api}/meetings/{japan['id']}/decisions", token, {
        "text": "Exchange conjunction warnings **daily**.", "label": REL_NATO_JPN, "agenda_item": item["id"]})
    created(hub, f"{api}/meetings/{japan['id']}/minutes/publish", token, {})
    both = created(hub, f"{api}/meetings", token, {
        "title": "IP4 space policy round table", "label": REL_NATO_IP4, "start": (START + timedelta(hours=3)).isoformat(),
        "end": (START + timedelta(hours=4)).isoformat(), "time_zone": "Europe/Brussels", "mode": "virtual",
        "link": "https://vtc.example.org/ip4", "series": series["id"]})
    fed.made.update(series=series, japan=japan, item=item, decision=decision, both=both)
    for key, record in (("series", series), ("japan", japan), ("both", both), ("item", item), ("decision", decision)):
        table = {"series": "series", "japan": "meeting", "both": "meeting", "item": "agendaitem",
                 "decision": "decision"}[key]
        uuid = hub.scalar(f"SELECT uuid FROM consultations_{table} WHERE id = %s", [record["id"]])  # noqa: S608
        prefix = {"series": "kizuna-consultation-series", "japan": "kizuna-meeting", "both": "kizuna-meeting",
                  "item": "kizuna-agenda-item", "decision": "kizuna-decision"}[key]
        fed.made[f"{key}_stix"] = f"{prefix}--{uuid_text(uuid)}"


def uuid_text(value: Any) -> str:
    """A uuid column as text: hyphenated on PostgreSQL, 32 hex digits on SQLite."""
    text = str(value).replace("-", "")
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


def stored(node: Node, stix_id: str) -> int:
    return int(node.scalar("SELECT COUNT(*) FROM threats_stixobject WHERE stix_id = %s", [stix_id]))


def row(node: Node, table: str, stix_id: str) -> Any:
    return node.scalar(f"SELECT id FROM consultations_{table} WHERE stix_id = %s", [stix_id])  # noqa: S608


def test_a_meeting_reaches_the_peer_that_may_see_it_and_not_the_one_that_may_not(fed: Federation) -> None:
    _write_on_hub(fed)
    made = fed.made
    # The hub serves its STIX forms: the Japan meeting to JPN's node only.
    assert stored(fed.hub, made["japan_stix"]) >= 1 and stored(fed.hub, made["decision_stix"]) == 1

    outputs = parallel(lambda: fed.jpn.cli("sync", "hub").stdout, lambda: fed.kor.cli("sync", "hub").stdout)
    assert all("0 quarantined" in out for out in outputs), outputs

    # JPN: everything, as read-only local rows from the hub's organisation.
    for table, key in (("series", "series"), ("meeting", "japan"), ("meeting", "both"), ("agendaitem", "item"),
                       ("decision", "decision")):
        assert row(fed.jpn, table, made[f"{key}_stix"]) is not None, key
    # KOR: the series and the shared meeting; the Japan meeting and its parts are neither stored nor rows.
    assert row(fed.kor, "series", made["series_stix"]) is not None
    assert row(fed.kor, "meeting", made["both_stix"]) is not None
    for key in ("japan", "item", "decision"):
        assert stored(fed.kor, made[f"{key}_stix"]) == 0, key
    assert row(fed.kor, "meeting", made["japan_stix"]) is None
    assert fed.kor.scalar("SELECT COUNT(*) FROM consultations_agendaitem") == 0
    assert fed.kor.scalar("SELECT COUNT(*) FROM consultations_decision") == 0


def test_the_received_meeting_shows_to_the_peers_users_as_a_read_only_meeting(fed: Federation) -> None:
    if "japan_stix" not in fed.made:
        test_a_meeting_reaches_the_peer_that_may_see_it_and_not_the_one_that_may_not(fed)
    made, jpn, token = fed.made, fed.jpn, fed.token["jpn"]
    api = "/api/v1/consultations"
    local_id = row(jpn, "meeting", made["japan_stix"])

    status, listing = jpn.http(f"{api}/meetings", token, WINDOW)
    assert status == 200, listing
    titles = {m["title"]: m for m in listing["items"]}
    assert set(titles) == {"NATO–Japan space situational awareness", "IP4 space policy round table"}
    status, meeting = jpn.http(f"{api}/meetings/{local_id}", token)
    assert status == 200, meeting
    assert meeting["originator"]["code"] == "NODE-HUB"
    assert meeting["label"]["categories"]["releasable_to"] == ["JPN", "NATO"]
    assert meeting["series"]["title"] == "NATO–IP4 Space Dialogue"
    assert meeting["link"] == "https://vtc.example.org/ssa" and meeting["uid"] == made["japan"]["uid"]
    assert datetime.fromisoformat(meeting["start"]) == START
    assert meeting["may_organise"] is False and meeting["attendees"] == []
    status, agenda = jpn.http(f"{api}/meetings/{local_id}/agenda", token)
    assert status == 200, agenda
    assert [i["title"] for i in agenda["items"]] == ["Debris tracking data exchange"]
    status, minutes = jpn.http(f"{api}/meetings/{local_id}/minutes", token)
    assert status == 200, minutes
    assert [d["text"] for d in minutes["decisions"]] == ["Exchange conjunction warnings **daily**."]

    # Read-only here: the Japanese user may not change it.
    status, answer = send(jpn, "PATCH", f"{api}/meetings/{local_id}", token, {"title": "changed on JPN"})
    assert status >= 400, answer
    assert jpn.scalar("SELECT title FROM consultations_meeting WHERE id = %s", [local_id]) == (
        "NATO–Japan space situational awareness")

    # The Korean node's user sees only the shared meeting; the Japan one does not exist there.
    status, listing = fed.kor.http(f"{api}/meetings", fed.token["kor"], WINDOW)
    assert status == 200, listing
    assert [m["title"] for m in listing["items"]] == ["IP4 space policy round table"]


def test_servers_stayed_up(fed: Federation) -> None:
    for node in (fed.hub, fed.jpn, fed.kor):
        assert node.server is not None and node.server.poll() is None, node.server_log()[-1500:]
