"""``kizuna node show``: this node's identity (id, name, the nation it serves) and keys (active, retired);
``kizuna node rotate-key``: a new active key pair, the old one retired (its public key kept for verification, its
private key file deleted). The identity and first key are created on first use of either."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser

from kizuna.core.management.base import KizunaCommand, cli_actor, format_table
from kizuna.federation import services


class Command(KizunaCommand):
    help = "This node's federation identity and signing keys."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = self.add_subcommands(parser)
        sub.add_parser("show", help="identity and keys", description="Show this node's identity and keys.")
        sub.add_parser("rotate-key", help="new signing key; the old one is retired",
                       description="Make a new Ed25519 key pair active; retire the old one (public key kept).")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "rotate-key":
            rotation = services.rotate_key(cli_actor())
            self.stdout.write(f"retired key {rotation.retired}; active key {rotation.active}")
            return
        node = services.node_identity()
        active = services.active_key()
        for title, value in (("id", node.stix_id), ("name", node.name), ("serves", node.serves),
                             ("key id", active.key_id), ("public key", f"{active.public_key} (Ed25519, raw, base64)")):
            self.stdout.write(f"{title + ':':<12}{value}")
        retired = list(node.keys.filter(retired_at__isnull=False).order_by("-retired_at", "-id"))
        if retired:
            rows = [("RETIRED KEY", "CREATED", "RETIRED", "PUBLIC KEY")]
            rows += [(k.key_id, f"{k.created_at:%Y-%m-%d %H:%M}", f"{k.retired_at:%Y-%m-%d %H:%M}", k.public_key)
                     for k in retired]
            self.stdout.write(format_table(rows))
