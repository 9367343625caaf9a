"""``kizuna misp import FILE --user U``: import one MISP event (MISP JSON core format) as STIX 2.1 objects.

The event is converted by ``kizuna.threats.misp`` (the MISP project's misp-stix converter, TLP tags as TLP 2.0
markings, galaxies as STIX objects) and stored by the importer as user U: U's organisation is the originator, and
objects without a Kizuna label get the default label given here (``--classification``, ``--releasable-to``,
``--communities``, ``--tlp``; default NATO UNCLASSIFIED REL TO U's nation, TLP:AMBER), with the TLP of each object's
own TLP marking when it has one. Prints the summary; bad JSON or a file that is not a MISP event is one line and a
non-zero exit.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser

from kizuna.core.management.base import KizunaCommand
from kizuna.directory.commands import named_user
from kizuna.labels import Label
from kizuna.threats.misp import MispError, convert_misp_event, load_misp_json


def _split(values: list[str]) -> list[str]:
    return sorted({v.strip().upper() for value in values for v in value.split(",") if v.strip()})


class Command(KizunaCommand):
    help = "Import a MISP event (MISP JSON) as STIX 2.1 objects."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = self.add_subcommands(parser)
        imp = sub.add_parser("import", help="import one MISP event file",
                             description="Convert a MISP event with misp-stix and store the STIX objects.")
        imp.add_argument("file", help="the MISP event, JSON core format ({\"Event\": {...}})")
        imp.add_argument("--user", required=True, help="the importing user (their organisation is the originator)")
        imp.add_argument("--classification", default="UNCLASSIFIED", help="default label: classification")
        imp.add_argument("--releasable-to", action="append", default=[], metavar="CODES",
                         help="default label: nations or groups, e.g. NATO,IP4 (default: the user's nation)")
        imp.add_argument("--communities", action="append", default=[], metavar="CODES",
                         help="default label: communities, e.g. CYBER")
        imp.add_argument("--tlp", default="AMBER", help="default label: TLP when an object has no TLP tag")

    def handle(self, *args: Any, **options: Any) -> None:
        from kizuna.threats.services import do_import_objects

        user = named_user(options["user"])
        path = Path(options["file"])
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"cannot read {path}: {exc.strerror}") from None
        try:
            conversion = convert_misp_event(load_misp_json(raw))
        except MispError as exc:
            raise CommandError(f"{path.name}: {exc}") from None
        releasable = _split(options["releasable_to"]) or ([user.nation_id] if user.nation_id else [])
        categories: dict[str, list[str] | tuple[str, ...] | set[str]] = {"releasable_to": releasable}
        communities = _split(options["communities"])
        if communities:
            categories["communities"] = communities
        default_label = Label.build("NATO", options["classification"].upper(), categories, options["tlp"].upper(), [])
        summary = do_import_objects(user, conversion.objects, default_label, source=f"MISP {path.name}")
        self.stdout.write(f"MISP event {conversion.event_uuid or '(no uuid)'}: {conversion.event_info}")
        self.stdout.write(f"MISP distribution: {conversion.distribution_text} (noted on the objects; the Kizuna "
                          "label decides who may see them)")
        if conversion.warnings:
            self.stdout.write(f"misp-stix notes: {len(conversion.warnings)} (first: {conversion.warnings[0][:200]})")
        self.stdout.write(f"default label: {summary.default_label_display}")
        self.stdout.write(f"accepted {summary.accepted}, unchanged {summary.unchanged}, rejected {summary.rejected}")
        for reason, count in sorted(summary.rejected_by_reason.items(), key=lambda item: -item[1]):
            self.stdout.write(f"  rejected {count}: {reason}")
        for error in summary.errors[:20]:
            self.stdout.write(f"  #{error.index} {error.id or '-'}: {error.reason}")
