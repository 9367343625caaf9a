"""``kizuna disarm load [FILE --version V] --user ADMIN [--replace]``: load the DISARM framework from its published
STIX bundle, pinned to version V (with no FILE: the bundle shipped with the node, version 1.6); ``kizuna disarm
show``: the pinned version and its tactics.

See ``kizuna.threats.disinfo.disarm`` for the label (for everyone: NATO UNCLASSIFIED REL TO NATO, IP4, TLP:CLEAR), the
loading account (a node administrator; their organisation is the originator) and the pin (a different version, or
the same version from a changed file, is refused without ``--replace``; loading the same file again changes nothing).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser

from kizuna.core.management.base import KizunaCommand, format_table
from kizuna.directory.commands import named_user
from kizuna.threats.disinfo import disarm


class Command(KizunaCommand):
    help = "Load the DISARM disinformation framework (STIX bundle), pinned to a version."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = self.add_subcommands(parser)
        load = sub.add_parser("load", help="load DISARM's STIX bundle as a pinned version",
                              description="Load DISARM's STIX bundle (e.g. DISARM.json) as version V; with no file, "
                                          f"the bundle shipped with the node (DISARM {disarm.SHIPPED_VERSION}).")
        load.add_argument("file", nargs="?", default="",
                          help=f"DISARM's STIX 2.1 bundle (default: the shipped one, {disarm.SHIPPED_VERSION})")
        load.add_argument("--version", default="", dest="disarm_version",
                          help="the framework version of FILE, e.g. 1.6 (required with a file)")
        load.add_argument("--user", required=True, help="a node administrator (the originator of the objects)")
        load.add_argument("--replace", action="store_true", help="replace the pinned version by this one")
        sub.add_parser("show", help="the pinned version and its tactics", description="Show the pinned DISARM version.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "show":
            self._show()
            return
        user = named_user(options["user"])
        path, version = Path(options["file"]) if options["file"] else disarm.SHIPPED, options["disarm_version"]
        if not options["file"]:
            if version and version != disarm.SHIPPED_VERSION:
                raise CommandError(f"the shipped bundle is DISARM {disarm.SHIPPED_VERSION}, not {version}; "
                                   "name the file of another version")
            version = disarm.SHIPPED_VERSION
        elif not version:
            raise CommandError("give the framework version of the file with --version (for example 1.6)")
        result = disarm.load(user, path, version, replace=options["replace"])
        if result.replaced:
            self.stdout.write(f"replaced DISARM {result.replaced}")
        self.stdout.write(f"DISARM {result.version}: {result.tactics} tactics, {result.techniques} techniques")
        self.stdout.write(f"accepted {result.accepted}, unchanged {result.unchanged}, rejected {result.rejected}")
        for reason, count in sorted(result.rejected_by_reason.items(), key=lambda item: -item[1]):
            self.stdout.write(f"  rejected {count}: {reason}")

    def _show(self) -> None:
        pinned = disarm.loaded_version()
        if pinned is None:
            self.stdout.write("DISARM is not loaded on this node")
            return
        found = disarm.framework_from_objects(_stored(pinned.object_ids), pinned.version)
        self.stdout.write(f"DISARM {pinned.version} (bundle {pinned.bundle_id}, loaded {pinned.loaded_at:%Y-%m-%d} "
                          f"by {pinned.loaded_by.username}): {len(found.techniques)} techniques")
        rows = [("PHASE", "TACTIC", "NAME", "TECHNIQUES")]
        rows += [(t.phase, t.external_id, t.name, str(len(found.techniques_of(t.external_id)))) for t in found.tactics]
        self.stdout.write(format_table(rows))


def _stored(ids: list[str]) -> list[dict[str, Any]]:
    """The pinned objects as stored (an operator's view of the node's reference data, not a subject's read)."""
    import json

    from kizuna.threats.models import StixObject

    rows = StixObject.objects.filter(stix_id__in=ids, is_current=True).values_list("data", flat=True)
    return [json.loads(text) for text in rows]
