"""``kizuna node show``: this node's identity (id, name, the nation it serves) and keys (active, retired);
``kizuna node rotate-key``: a new active key pair, the old one retired (its public key kept for verification, its
private key file deleted); ``kizuna node show --json``: the node card (id, name, nation, public keys) that the
administrator of another node gives to ``kizuna peer add --from-card``; ``kizuna node sign``: sign now every object
version this node serves that is not signed yet (the sync worker does this on its own).
The identity and first key are created on first use of any of them."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import CommandParser

from kizuna.core.management.base import KizunaCommand, cli_actor, format_table
from kizuna.federation import cards, services


class Command(KizunaCommand):
    help = "This node's federation identity and signing keys."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = self.add_subcommands(parser)
        show = sub.add_parser("show", help="identity and keys", description="Show this node's identity and keys.")
        show.add_argument("--json", action="store_true", help="the node card for 'kizuna peer add --from-card'")
        show.add_argument("--url", default="", help="with --json: this node's address as peers reach it "
                                                    "(https://host[:port]); the card then names its TAXII URL")
        sub.add_parser("sign", help="sign the object versions not signed yet",
                       description="Sign every object version this node originated that has no signature yet.")
        sub.add_parser("rotate-key", help="new signing key; the old one is retired",
                       description="Make a new Ed25519 key pair active; retire the old one (public key kept).")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "rotate-key":
            rotation = services.rotate_key(cli_actor())
            self.stdout.write(f"retired key {rotation.retired}; active key {rotation.active}")
            return
        if options["action"] == "sign":
            from kizuna.federation.outbound import sign_pending

            self.stdout.write(f"signed {sign_pending()} object version(s)")
            return
        node = services.node_identity()
        active = services.active_key()
        if options.get("json"):
            self.stdout.write(json.dumps(cards.this_node(options.get("url") or ""), indent=2))
            return
        for title, value in (("id", node.stix_id), ("name", node.name), ("serves", node.serves),
                             ("key id", active.key_id), ("public key", f"{active.public_key} (Ed25519, raw, base64)")):
            self.stdout.write(f"{title + ':':<12}{value}")
        retired = list(node.keys.filter(retired_at__isnull=False).order_by("-retired_at", "-id"))
        if retired:
            rows = [("RETIRED KEY", "CREATED", "RETIRED", "PUBLIC KEY")]
            rows += [(k.key_id, f"{k.created_at:%Y-%m-%d %H:%M}", f"{k.retired_at:%Y-%m-%d %H:%M}", k.public_key)
                     for k in retired]
            self.stdout.write(format_table(rows))
