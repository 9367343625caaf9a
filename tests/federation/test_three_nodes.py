"""Issue 4's "done means" test: three real nodes — a NATO hub, a Japanese node and an Australian node — as separate
``kizuna serve`` processes on 127.0.0.1, each with its own data directory and database, configured only through the
CLI (``kizuna migrate``, ``user add``, ``node show --json``, ``peer add --from-card ... --token``), fed through
``kizuna stix import`` and synced with ``kizuna sync`` subprocesses against the serving processes. The tests share
one set of nodes and run in order:

1. an indicator REL TO NATO, JPN created on the hub reaches the Japanese node and never the Australian one (while
   one REL TO NATO, AUS, JPN reaches both, so AUS's sync demonstrably works);
2. a newer version issued by the hub (the originator) reaches JPN on the next sync;
3. a newer version forged by JPN (a compromised node: the row written straight into its database, served signed
   with JPN's real key) is refused by the hub and quarantined as "refused", the hub keeping its own version;
4. a ``kizuna sync`` on JPN killed with SIGKILL in the middle of a few thousand objects resumes on the next run and
   converges: JPN then holds exactly the (id, modified) set the hub has that JPN may see, each once; AUS receives
   exactly its share and none of JPN's.
"""

from __future__ import annotations

import base64
import json
import signal
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.federation.nodes import Node, parallel

PASSWORD = "three-nodes-password-4774"
REL_NATO_JPN = "NATO,JPN"
REL_NATO_AUS_JPN = "NATO,AUS,JPN"
REL_NATO_AUS = "NATO,AUS"
SIGNATURE_EXTENSION_ID = "extension-definition--3f6c2b8e-91d4-4a57-b0e2-6b697a75736e"
BULK_JPN, BULK_AUS = 3000, 1000
V1, V2, FORGED = "2026-03-01T00:00:00.000Z", "2026-03-02T00:00:00.000Z", "2026-03-03T00:00:00.000Z"


@dataclass
class Federation:
    hub: Node
    jpn: Node
    aus: Node
    user_token: dict[str, str] = field(default_factory=dict)  # node key -> API token of that node's user
    cards: dict[str, dict[str, Any]] = field(default_factory=dict)
    token_at_hub: dict[str, str] = field(default_factory=dict)  # peer -> token it presents to the hub
    hub_token_at: dict[str, str] = field(default_factory=dict)  # node -> token the hub presents to it
    shared: dict[str, Any] = field(default_factory=dict)  # what one step leaves for the next
    done: dict[str, bool] = field(default_factory=dict)  # the steps run on these nodes: passed or not


USERS = {  # node key -> (username, nation, organisation)
    "hub": ("natalie", "GBR", "NATO-LOT"),
    "jpn": ("hanako", "JPN", "JPN-MOD"),
    "aus": ("oliver", "AUS", "AUS-DOD"),
}


def _setup_node(node: Node) -> tuple[str, dict[str, Any]]:
    username, nation, org = USERS[node.key]
    node.cli("migrate", "--noinput")
    node.cli("user", "add", username, "--nation", nation, "--org", org, "--clearance", "NATO:RESTRICTED",
             "--community", "CYBER", "--role", "contributor", "--password", PASSWORD)
    # An API token for the REST API, on JPN only (the others are read through TAXII with HTTP Basic): every CLI
    # call costs about a second of CPU, and the module must stay well under a minute.
    token = node.last_line("token", "create", username, "--name", "three-nodes test") if node.key == "jpn" else ""
    card = json.loads(node.cli("node", "show", "--json").stdout)
    node.start()
    return token, card


@pytest.fixture(scope="module")
def fed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Federation]:
    base = tmp_path_factory.mktemp("three-nodes")
    started: list[Node] = []
    try:
        for key, name, nation in (("hub", "NATO hub", ""), ("jpn", "Japan node", "JPN"),
                                  ("aus", "Australia node", "AUS")):
            started.append(Node(key, name, nation, base))
        fed = Federation(hub=started[0], jpn=started[1], aus=started[2])
        for node, (token, card) in zip(started, parallel(*[lambda n=n: _setup_node(n) for n in started]),
                                       strict=True):
            fed.user_token[node.key] = token
            fed.cards[node.key] = card
            node.write("card.json", json.dumps(card))
        for node in started:
            assert card_nation(fed, node) == (node.nation or "NATO")
        def pair(node: Node, nation: str) -> None:
            # On the hub: the national node is a peer entitled to its own nation; the hub does not pull from it
            # (no URL) until the forgery test. The hub prints the token that peer must present there.
            fed.token_at_hub[node.key] = fed.hub.last_line(
                "peer", "add", node.key, "--from-card", str(node.data_dir / "card.json"), "--nations", nation,
                "--clearance", "NATO=RESTRICTED", "--community", "CYBER", "--token")
            # On the national node: the hub is a peer entitled to NATO, pulled from with that token; it prints
            # the token the hub must present to it.
            credential = node.write("hub-credential", fed.token_at_hub[node.key])
            fed.hub_token_at[node.key] = node.last_line(
                "peer", "add", "hub", "--from-card", str(fed.hub.data_dir / "card.json"), "--nations", "NATO",
                "--clearance", "NATO=RESTRICTED", "--community", "CYBER", "--url", fed.hub.taxii_root,
                "--credential-file", str(credential), "--token")

        parallel(lambda: pair(fed.jpn, "JPN"), lambda: pair(fed.aus, "AUS"))
        yield fed
    finally:
        for node in started:
            print(node.key, ", ".join(f"{c} {t:.1f}" for c, t in node.timings))

        def stop(node: Node) -> str:
            try:
                node.stop()
            except Exception as exc:  # the others are stopped all the same
                return f"{node.key}: {exc}"
            return ""

        errors = [e for e in parallel(*[lambda n=n: stop(n) for n in started]) if e] if started else []
        assert not errors, errors


def card_nation(fed: Federation, node: Node) -> str:
    return str(fed.cards[node.key]["nation"])


# --- helpers -------------------------------------------------------------------------------------------------------


def indicator(n: int, *, stix_id: str | None = None, modified: str = V1, name: str | None = None) -> dict[str, Any]:
    return {
        "type": "indicator", "spec_version": "2.1", "id": stix_id or f"indicator--{uuid.uuid4()}",
        "created": V1, "modified": modified, "name": name or f"C2 server {n}",
        "pattern": f"[ipv4-addr:value = '198.51.{n // 250 % 250}.{n % 250}']", "pattern_type": "stix",
        "valid_from": "2026-03-01T00:00:00Z",
    }


def rel_to(releasable_to: str) -> Any:
    from kizuna.labels import Label

    return Label.build("NATO", "UNCLASSIFIED", {"releasable_to": releasable_to.split(","), "communities": ["CYBER"]},
                       "AMBER")


def import_on(node: Node, groups: list[tuple[list[dict[str, Any]], str]], name: str) -> str:
    """One ``kizuna stix import`` of a bundle holding each group of objects marked with the Kizuna label marking of
    NATO UNCLASSIFIED REL TO <nations> // CYBER // TLP:AMBER (the marking-definitions travel in the bundle)."""
    from kizuna.threats.markings import label_marking

    objects: list[dict[str, Any]] = []
    for group, releasable_to in groups:
        marking = label_marking(rel_to(releasable_to))
        objects.append(marking)
        objects += [{**o, "object_marking_refs": [marking["id"]]} for o in group]
    path = node.write(f"{name}.json", json.dumps({"type": "bundle", "id": f"bundle--{uuid.uuid4()}",
                                                  "objects": objects}))
    out = node.cli("stix", "import", str(path), "--user", USERS[node.key][0], "--releasable-to", "NATO",
                   "--no-progress").stdout
    assert "rejected:  0" in out, out
    return out


def sync(node: Node, *args: str) -> str:
    result = node.cli("sync", "hub", *args) if node.key != "hub" else node.cli("sync", *args)
    return result.stdout


def basic(node: Node) -> tuple[str, str]:
    """The node's user's HTTP Basic credential (TAXII accepts it)."""
    return USERS[node.key][0], PASSWORD


def rest_object(node: Node, fed: Federation, stix_id: str) -> tuple[int, Any]:
    return node.http(f"/api/v1/stix/objects/{stix_id}", fed.user_token[node.key])


def stored_versions(node: Node, stix_id: str) -> dict[str, bool]:
    return {m: bool(c) for m, c in node.query(
        "SELECT modified, is_current FROM threats_stixobject WHERE stix_id = %s", [stix_id])}


def org_id(node: Node, code: str) -> int:
    value = node.scalar("SELECT id FROM directory_organisation WHERE code = %s", [code])
    assert value is not None, f"no organisation {code} on {node.key}"
    return int(value)


def indicators_from_hub(node: Node) -> list[tuple[str, str]]:
    """(id, modified) of every indicator row on ``node`` whose originator is the hub (the peer's organisation)."""
    return [(i, m) for i, m in node.query(
        "SELECT stix_id, modified FROM threats_stixobject WHERE type = 'indicator' AND originator_id = %s",
        [org_id(node, "NODE-HUB")])]


def hub_indicators_visible_to(fed: Federation, nations: set[str]) -> set[tuple[str, str]]:
    """From the hub's own database, independently of its TAXII server: the indicator versions whose label a peer
    entitled to ``nations`` (plus the groups they belong to, IP4 for JPN and AUS) may see."""
    out = set()
    for stix_id, modified, key in fed.hub.query(
            "SELECT s.stix_id, s.modified, l.key FROM threats_stixobject s JOIN kizuna_label l ON l.id = s.label_id "
            "WHERE s.type = 'indicator'"):
        label = json.loads(key)
        releasable = set((label.get("categories") or {}).get("releasable_to") or [])
        if releasable & (nations | {"IP4"}):
            out.add((stix_id, modified))
    return out


# --- the tests, in order -------------------------------------------------------------------------------------------


def _rel_to_nato_jpn_reaches_jpn_and_never_aus(fed: Federation) -> None:
    jpn_only = indicator(1, name="C2 server for Japan only")
    shared = indicator(2, name="C2 server for Japan and Australia")
    import_on(fed.hub, [([jpn_only], REL_NATO_JPN), ([shared], REL_NATO_AUS_JPN)], "test1")
    fed.shared.update(jpn_only=jpn_only, shared=shared)

    # The hub's enforcement point: AUS's credential cannot read the JPN-only object there at all; JPN's can.
    assert fed.hub.taxii_object(fed.token_at_hub["aus"], jpn_only["id"])[0] == 404
    assert fed.hub.taxii_object(fed.token_at_hub["aus"], shared["id"])[0] == 200
    assert fed.hub.taxii_object(fed.token_at_hub["jpn"], jpn_only["id"])[0] == 200

    parallel(lambda: sync(fed.jpn), lambda: sync(fed.aus))

    # JPN: both, read back as the Japanese user through JPN's REST API and TAXII server.
    for obj in (jpn_only, shared):
        status, body = rest_object(fed.jpn, fed, obj["id"])
        assert status == 200, body
        assert body["object"]["name"] == obj["name"] and body["object"]["modified"] == V1
        assert body["originator"]["code"] == "NODE-HUB"
        assert "REL TO" in body["label_display"] and "JPN" in body["label_display"]
    status, envelope = fed.jpn.taxii_object(basic(fed.jpn), jpn_only["id"])
    assert status == 200, envelope
    [served] = envelope["objects"]
    # JPN re-serves it exactly as received: signed by the hub, not by JPN.
    assert served["extensions"][SIGNATURE_EXTENSION_ID]["node"] == fed.cards["hub"]["id"]

    # AUS: the shared one only. The JPN-only one is not in its store at all, and its user gets 404.
    assert stored_versions(fed.aus, shared["id"]) == {V1: True}
    assert stored_versions(fed.aus, jpn_only["id"]) == {}
    assert fed.aus.taxii_object(basic(fed.aus), shared["id"])[0] == 200
    assert fed.aus.taxii_object(basic(fed.aus), jpn_only["id"])[0] == 404
    assert fed.aus.scalar("SELECT COUNT(*) FROM federation_quarantinedobject") == 0


def _an_update_by_the_originator_propagates(fed: Federation) -> None:
    first = fed.shared["jpn_only"]
    update = indicator(1, stix_id=first["id"], modified=V2, name="C2 server for Japan only (moved)")
    import_on(fed.hub, [([update], REL_NATO_JPN)], "test2")

    out = sync(fed.jpn)
    assert "1 received" in out, out

    status, body = rest_object(fed.jpn, fed, first["id"])
    assert status == 200, body
    assert body["object"]["modified"] == V2 and body["object"]["name"] == update["name"]
    assert stored_versions(fed.jpn, first["id"]) == {V1: False, V2: True}
    status, versions = fed.jpn.http(f"/api/v1/stix/objects/{first['id']}/versions", fed.user_token["jpn"])
    assert status == 200 and sorted(v["modified"] for v in versions) == [V1, V2]
    # (AUS syncs again at the end of the last test, which checks it holds none of JPN's versions.)


def _an_update_forged_by_a_non_originator_is_refused(fed: Federation) -> None:
    from kizuna.federation import signing

    target = fed.shared["jpn_only"]
    # A compromised JPN node: a newer version of the hub's object, written straight into JPN's database as if a
    # JPN organisation had issued it, unsigned, so JPN's TAXII server signs it with JPN's real key when serving.
    [(row_id, data)] = fed.jpn.query(
        "SELECT id, data FROM threats_stixobject WHERE stix_id = %s AND is_current = %s", [target["id"], True])
    forged = json.loads(data)
    forged.pop("extensions", None)
    forged.pop("object_marking_refs", None)
    forged.update(modified=FORGED, name="C2 server (forged by a compromised JPN node)")
    columns = ("created_at, updated_at, stix_id, type, spec_version, created, modified, is_current, revoked, "
               "source_ref, target_ref, name, data, label_id, originator_id, signature, signed_label")
    fed.jpn.transaction([
        ("UPDATE threats_stixobject SET is_current = %s WHERE stix_id = %s", [False, target["id"]]),
        (f"INSERT INTO threats_stixobject ({columns}) SELECT created_at, updated_at, stix_id, type, "  # noqa: S608
         "spec_version, created, %s, %s, revoked, source_ref, target_ref, %s, %s, label_id, %s, NULL, NULL "
         "FROM threats_stixobject WHERE id = %s",
         [FORGED, True, forged["name"], json.dumps(forged, separators=(",", ":")), org_id(fed.jpn, "JPN-MOD"),
          row_id]),
    ])
    # JPN really serves the forged version, validly signed by JPN's own key.
    served = {o["modified"]: o for o in fed.jpn.taxii_all(fed.hub_token_at["jpn"]) if o["id"] == target["id"]}
    assert set(served) == {V1, V2, FORGED}
    jpn_keys = {k["key_id"]: base64.b64decode(k["public_key"]) for k in fed.cards["jpn"]["keys"]}
    assert served[FORGED]["extensions"][SIGNATURE_EXTENSION_ID]["node"] == fed.cards["jpn"]["id"]
    assert signing.verify_object(served[FORGED], jpn_keys).ok

    # The hub now pulls from JPN, with the token JPN issued for it.
    credential = fed.hub.write("jpn-credential", fed.hub_token_at["jpn"])
    fed.hub.cli("peer", "set", "jpn", "--url", fed.jpn.taxii_root, "--credential-file", str(credential))
    out = fed.hub.cli("sync", "jpn").stdout
    assert "1 quarantined" in out, out

    # The hub keeps its own current version; the forged one is not stored but quarantined as refused.
    assert stored_versions(fed.hub, target["id"]) == {V1: False, V2: True}
    status, envelope = fed.hub.taxii_object(basic(fed.hub), target["id"])
    assert status == 200 and [o["modified"] for o in envelope["objects"]] == [V2]
    rows = fed.hub.query("SELECT q.stix_id, q.modified, q.verdict, q.claimed_node, p.name FROM "
                         "federation_quarantinedobject q JOIN federation_peer p ON p.id = q.peer_id")
    assert rows == [(target["id"], FORGED, "refused", fed.cards["jpn"]["id"], "jpn")]

    # Undo the compromise on JPN so that the last test compares clean stores.
    fed.jpn.transaction([
        ("DELETE FROM threats_stixobject WHERE stix_id = %s AND modified = %s", [target["id"], FORGED]),
        ("UPDATE threats_stixobject SET is_current = %s WHERE id = %s", [True, row_id]),
    ])


def _a_sync_killed_with_sigkill_resumes_and_converges(fed: Federation) -> None:
    bulk_jpn = [indicator(1000 + i) for i in range(BULK_JPN)]
    bulk_aus = [indicator(5000 + i) for i in range(BULK_AUS)]
    import_on(fed.hub, [(bulk_jpn, REL_NATO_JPN), (bulk_aus, REL_NATO_AUS)], "bulk")
    expected_jpn = hub_indicators_visible_to(fed, {"JPN"})
    assert len(expected_jpn) == BULK_JPN + 3  # + the JPN-only object's two versions and the shared one
    # The hub's TAXII server, asked with JPN's credential, serves exactly that set.
    served = {(o["id"], o["modified"]) for o in fed.hub.taxii_all(fed.token_at_hub["jpn"])
              if o["type"] == "indicator"}
    assert served == expected_jpn

    before = len(indicators_from_hub(fed.jpn))
    hub_peer = fed.jpn.scalar("SELECT id FROM federation_peer WHERE name = 'hub'")
    proc = fed.jpn.popen("sync", "hub", "--page-size", "100")
    killed_at = -1
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None:
            stored = fed.jpn.scalar("SELECT COUNT(*) FROM threats_stixobject WHERE type = 'indicator'")
            cursor = fed.jpn.scalar("SELECT next_token FROM federation_synccursor WHERE peer_id = %s", [hub_peer])
            if stored - before >= 300 and cursor:
                proc.send_signal(signal.SIGKILL)
                killed_at = stored - before
                break
            time.sleep(0.002)
    finally:
        if proc.poll() is None and killed_at < 0:
            proc.kill()
        _, stderr = proc.communicate(timeout=30)
    assert killed_at > 0, f"the sync ended before it could be killed: {proc.returncode} {stderr}"
    assert proc.returncode == -signal.SIGKILL
    partial = indicators_from_hub(fed.jpn)
    assert before < len(partial) < len(expected_jpn), "killed in the middle: some stored, not all"
    cursor_after_kill = fed.jpn.query(
        "SELECT next_token, received FROM federation_synccursor WHERE peer_id = %s", [hub_peer])[0]
    assert cursor_after_kill[0], "the cursor stands in the middle of the walk"
    # Cursor and stored pages moved together: every version counted as received is stored, and vice versa.
    assert cursor_after_kill[1] == len(partial)

    out = sync(fed.jpn)
    assert "0 quarantined" in out, out

    final = indicators_from_hub(fed.jpn)
    assert len(final) == len(set(final)), "no duplicates"
    assert set(final) == expected_jpn, (
        f"missing {len(expected_jpn - set(final))}, unexpected {len(set(final) - expected_jpn)}")
    assert fed.jpn.scalar("SELECT COUNT(*) FROM threats_stixobject WHERE type = 'indicator'") == len(expected_jpn)
    assert fed.jpn.scalar("SELECT received FROM federation_synccursor WHERE peer_id = %s", [hub_peer]) == len(final)
    assert fed.jpn.scalar("SELECT COUNT(*) FROM federation_quarantinedobject") == 0

    # AUS, last: exactly its share (the shared object and the AUS bulk), none of JPN's.
    sync(fed.aus)
    expected_aus = hub_indicators_visible_to(fed, {"AUS"})
    assert len(expected_aus) == BULK_AUS + 1
    aus = indicators_from_hub(fed.aus)
    assert len(aus) == len(set(aus)) and set(aus) == expected_aus
    assert not {i for i, _ in aus} & {i for i, _ in expected_jpn - expected_aus}
    print(f"sync killed with SIGKILL after {killed_at} of {len(expected_jpn) - before} new versions; "
          f"cursor then: received {cursor_after_kill[1]}, next token set")


# The steps build on each other (one set of nodes, one story). Under pytest-xdist (``make test`` runs ``-n 2`` with
# load distribution) the tests of this module may land on different workers, each with its own set of nodes: a
# test therefore first runs, on its worker's nodes, every earlier step that has not run there yet.
STEPS = [_rel_to_nato_jpn_reaches_jpn_and_never_aus, _an_update_by_the_originator_propagates,
         _an_update_forged_by_a_non_originator_is_refused, _a_sync_killed_with_sigkill_resumes_and_converges]


def run_steps_up_to(fed: Federation, step: Any) -> None:
    for earlier in STEPS[: STEPS.index(step) + 1]:
        name = earlier.__name__
        if fed.done.get(name) is False:
            pytest.fail(f"an earlier step failed on these nodes: {name}")
        if name not in fed.done:
            fed.done[name] = False
            earlier(fed)
            fed.done[name] = True


def test_rel_to_nato_jpn_reaches_jpn_and_never_aus(fed: Federation) -> None:
    run_steps_up_to(fed, _rel_to_nato_jpn_reaches_jpn_and_never_aus)


def test_an_update_by_the_originator_propagates(fed: Federation) -> None:
    run_steps_up_to(fed, _an_update_by_the_originator_propagates)


def test_an_update_forged_by_a_non_originator_is_refused(fed: Federation) -> None:
    run_steps_up_to(fed, _an_update_forged_by_a_non_originator_is_refused)


def test_a_sync_killed_with_sigkill_resumes_and_converges(fed: Federation) -> None:
    run_steps_up_to(fed, _a_sync_killed_with_sigkill_resumes_and_converges)


def test_servers_stayed_up(fed: Federation) -> None:
    for node in (fed.hub, fed.jpn, fed.aus):
        assert node.server is not None and node.server.poll() is None, node.server_log()[-1500:]

