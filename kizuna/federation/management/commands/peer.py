"""``kizuna peer``: configure the nodes this node exchanges with.

    kizuna peer add NAME --node-id identity--… --key BASE64 --nations JPN [--clearance NATO=RESTRICTED]
                    [--community C] [--url http://…/taxii2/kizuna/] [--credential-file F | --credential-env VAR]
                    [--from-card node.json]
    kizuna peer list
    kizuna peer show NAME
    kizuna peer add-key NAME BASE64
    kizuna peer token NAME          # a new API token the peer presents here (printed once, last line)
    kizuna peer set NAME [--url …] [--credential-file F] [--nations …] [--enable|--disable] [--interval S]

``--from-card`` reads the JSON that ``kizuna node show --json`` prints on the other node (its id, name and public
keys), so two administrators exchange one file instead of copying keys by hand.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from django.core.management.base import CommandParser

from kizuna.core.errors import ServiceError
from kizuna.core.management.base import KizunaCommand, cli_actor, format_table
from kizuna.federation import cards, peers
from kizuna.federation.models import Peer


def _clearances(values: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for value in values:
        policy, sep, level = value.partition("=")
        if not sep or not policy.strip() or not level.strip():
            raise ServiceError(f"--clearance takes POLICY=LEVEL, such as NATO=RESTRICTED, not {value!r}", "clearance")
        out[policy.strip()] = level.strip()
    return out


def _list(values: list[str] | None) -> list[str]:
    return [v.strip() for value in values or [] for v in value.split(",") if v.strip()]


def _credential(options: dict[str, Any]) -> str | None:
    if options.get("credential_file"):
        path = Path(options["credential_file"])
        try:
            return path.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ServiceError(f"cannot read the credential file {path}: {exc.strerror}", "credential") from None
    if options.get("credential_env"):
        value = os.environ.get(options["credential_env"])
        if not value:
            raise ServiceError(f"the environment variable {options['credential_env']} is not set", "credential")
        return value.strip()
    return None


def _card(path: str) -> cards.Card:
    try:
        text = Path(path).read_bytes()
    except OSError as exc:
        raise ServiceError(f"cannot read the node card {path}: {exc.strerror}", "from_card") from None
    return cards.read(text, path)


class Command(KizunaCommand):
    help = "Configure federation peers (other nodes): keys, entitlements, TAXII URL and credential."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = self.add_subcommands(parser)
        add = sub.add_parser("add", help="configure a new peer")
        add.add_argument("name")
        add.add_argument("--node-id", default="")
        add.add_argument("--key", action="append", default=[], help="the peer's public key (repeatable)")
        add.add_argument("--from-card", help="JSON from 'kizuna node show --json' on the peer")
        add.add_argument("--title", default="")
        add.add_argument("--nations", action="append", required=True,
                         help="nations or groups the peer is entitled to (comma-separated or repeated)")
        add.add_argument("--clearance", action="append", default=[], help="POLICY=LEVEL (repeatable)")
        add.add_argument("--community", action="append", default=[])
        add.add_argument("--url", default="", help="the peer's TAXII API root, e.g. http://host:8000/taxii2/kizuna/")
        add.add_argument("--credential-file", help="file holding the token this node presents to the peer")
        add.add_argument("--credential-env", help="environment variable holding that token")
        add.add_argument("--collection", action="append", default=[], help="peer collection id to pull (repeatable)")
        add.add_argument("--interval", type=int, default=300, help="seconds between scheduled pulls")
        add.add_argument("--token", action="store_true", help="also create the token the peer presents here")
        sub.add_parser("list", help="the peers and their sync state")
        show = sub.add_parser("show", help="one peer")
        show.add_argument("name")
        key = sub.add_parser("add-key", help="trust one more public key of a peer")
        key.add_argument("name")
        key.add_argument("key")
        token = sub.add_parser("token", help="a new API token for the peer to present here (printed once)")
        token.add_argument("name")
        setp = sub.add_parser("set", help="change a peer")
        setp.add_argument("name")
        setp.add_argument("--url")
        setp.add_argument("--credential-file")
        setp.add_argument("--credential-env")
        setp.add_argument("--nations", action="append")
        setp.add_argument("--clearance", action="append")
        setp.add_argument("--community", action="append")
        setp.add_argument("--interval", type=int)
        setp.add_argument("--enable", action="store_true")
        setp.add_argument("--disable", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        actor = cli_actor()
        if action == "add":
            node_id, keys, title = options["node_id"], list(options["key"]), options["title"]
            if options.get("from_card"):
                card = _card(options["from_card"])
                node_id = node_id or card.node_id
                keys += card.public_keys
                title = title or card.name
                options["url"] = options["url"] or card.taxii_url
            if not node_id:
                raise ServiceError("give --node-id or --from-card", "node_id")
            peer = peers.add_peer(
                options["name"], node_id, nations=_list(options["nations"]),
                clearances=_clearances(options["clearance"]), communities=_list(options["community"]),
                public_keys=keys, taxii_url=options["url"], credential=_credential(options) or "",
                title=title, interval=options["interval"], actor=actor,
            )
            if options["collection"]:
                peer.collections = _list(options["collection"])
                peer.save(update_fields=["collections"])
            self.stdout.write(f"peer {peer.name} added ({peer.node_id}); entitled to {', '.join(peer.nations)}")
            if options["token"]:
                self.stdout.write("token the peer presents here (shown once):")
                self.stdout.write(peers.peer_token(peer, actor=actor))
        elif action == "list":
            rows = [("PEER", "NODE", "ENTITLED TO", "URL", "LAST SUCCESS", "RECEIVED", "QUARANTINED", "LAST ERROR")]
            for peer in Peer.objects.prefetch_related("cursors"):
                cursors = list(peer.cursors.all())
                success = max((c.last_success for c in cursors if c.last_success), default=None)
                rows.append((
                    peer.name + ("" if peer.enabled else " (disabled)"), peer.node_id, ",".join(peer.nations),
                    peer.taxii_url or "-", f"{success:%Y-%m-%d %H:%M:%S}" if success else "never",
                    str(sum(c.received for c in cursors)), str(peer.quarantine.count()),
                    next((c.last_error for c in cursors if c.last_error), "")[:60],
                ))
            self.stdout.write(format_table(rows))
        elif action == "show":
            peer = peers.get_peer(options["name"])
            for title_, value in (
                ("name", peer.name), ("node", peer.node_id), ("title", peer.title),
                ("organisation", peer.organisation.code), ("nations", ", ".join(peer.nations)),
                ("clearances", ", ".join(f"{k}={v}" for k, v in peer.clearances.items()) or "-"),
                ("communities", ", ".join(peer.communities) or "-"), ("url", peer.taxii_url or "-"),
                ("enabled", "yes" if peer.enabled else "no"), ("interval", f"{peer.interval} s"),
                ("keys", ", ".join(k.key_id for k in peer.keys.all()) or "-"),
            ):
                self.stdout.write(f"{title_ + ':':<14}{value}")
            for c in peer.cursors.all():
                self.stdout.write(f"collection {c.collection}: received {c.received}, unchanged {c.unchanged}, "
                                  f"quarantined {c.quarantined}, last success {c.last_success or 'never'}"
                                  + (f", last error: {c.last_error}" if c.last_error else ""))
        elif action == "add-key":
            key = peers.add_key(peers.get_peer(options["name"]), options["key"], actor=actor)
            self.stdout.write(f"key {key.key_id} trusted for peer {options['name']}")
        elif action == "token":
            self.stdout.write(peers.peer_token(peers.get_peer(options["name"]), actor=actor))
        elif action == "set":
            peer = peers.get_peer(options["name"])
            changes: dict[str, Any] = {}
            if options.get("url") is not None:
                changes["taxii_url"] = options["url"]
            credential = _credential(options)
            if credential is not None:
                changes["credential"] = credential
            if options.get("nations"):
                changes["nations"] = _list(options["nations"])
            if options.get("clearance") is not None:
                changes["clearances"] = _clearances(options["clearance"])
            if options.get("community") is not None:
                changes["communities"] = _list(options["community"])
            if options.get("interval") is not None:
                changes["interval"] = options["interval"]
            if options["enable"] and options["disable"]:
                raise ServiceError("--enable and --disable together make no sense")
            if options["enable"] or options["disable"]:
                changes["enabled"] = bool(options["enable"])
            if not changes:
                raise ServiceError("nothing to change; see 'kizuna peer set --help'")
            peers.update_peer(peer, actor=actor, **changes)
            self.stdout.write(f"peer {peer.name} updated: {', '.join(sorted(changes))}")
