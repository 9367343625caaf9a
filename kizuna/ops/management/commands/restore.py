"""``kizuna restore SRC``: restore a backup made by ``kizuna backup`` into this node (fresh, unless ``--force``), then
verify it against the backup's manifest: row counts per table, the audit chain and its head, every attachment's
hash, the node's identity and active key. Exit status 1 with one line per difference if anything does not match.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser

from kizuna.core.management.base import KizunaCommand
from kizuna.ops import backup


class Command(KizunaCommand):
    help = "Restore a backup into this node and verify it."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("src", metavar="SRC", help="a backup directory or tar file made by `kizuna backup`")
        parser.add_argument("--force", action="store_true",
                            help="overwrite this node even though it holds data (its database, keys, attachments)")

    def handle(self, *args: Any, **options: Any) -> None:
        manifest, result = backup.restore(Path(options["src"]), force=options["force"])
        if result.problems:
            for line in result.problems:
                self.stdout.write(line)
            raise CommandError(f"restored, but {len(result.problems)} difference(s) from the backup's manifest")
        node = manifest["node"]
        self.stdout.write(
            f"restored and verified: {result.tables} tables, {result.rows} rows;"
            f" audit log intact ({result.audit_entries} entries, head {manifest['audit']['head_seq']});"
            f" {result.attachments} attachment(s) match their hashes;"
            f" node {node['id'] + ' key ' + result.key_id if node else '(no identity)'}"
        )
        self.stdout.write("next: `kizuna migrate` if this code is newer than the backup's "
                          f"({manifest['kizuna_version']}), then start the node")
