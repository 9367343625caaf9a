"""``kizuna backup DEST``: an online backup of this node (database, private keys, attachments, secret key) into the
directory DEST, or the tar file DEST when it ends in .tar, .tar.gz or .tgz, with a manifest (see docs/operations.md).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from django.core.management.base import CommandParser

from kizuna.core.management.base import KizunaCommand
from kizuna.ops import backup


class Command(KizunaCommand):
    help = "Back up this node (database, keys, attachments) while it runs."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("dest", metavar="DEST",
                            help="a new (or empty) directory, or a file ending in .tar, .tar.gz or .tgz")

    def handle(self, *args: Any, **options: Any) -> None:
        began = time.monotonic()
        manifest = backup.backup(Path(options["dest"]))
        audit = manifest["audit"]
        node = manifest["node"]
        self.stdout.write(
            f"backed up {backup.KIND_NAMES[manifest['database']['kind']]} database"
            f" ({len(manifest['tables'])} tables, {sum(manifest['tables'].values())} rows),"
            f" {len(manifest['files'])} file(s); audit head {audit['head_seq']}:{audit['head_hash']};"
            f" node {node['id'] + ' key ' + node['key_id'] if node else '(no identity yet)'};"
            f" {time.monotonic() - began:.1f} s -> {options['dest']}"
        )
        if manifest["attachments"]["missing"]:
            self.stderr.write(f"warning: attachment file(s) missing from the data directory:"
                              f" {', '.join(manifest['attachments']['missing'])}")
