"""``kizuna report publish-stix``: store the STIX form of every local report that has none for its current state
(reports written before reports travelled to peers); idempotent. Reports written since carry theirs already."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser

from kizuna.core.management.base import KizunaCommand


class Command(KizunaCommand):
    help = "Shared reports."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = self.add_subcommands(parser)
        sub.add_parser("publish-stix", help="store the STIX form of reports that have none yet",
                       description="Store the STIX form (kizuna-report) of every local report whose current state "
                                   "has none yet, so that it is served over TAXII and travels to peers.")

    def handle(self, *args: Any, **options: Any) -> None:
        from kizuna.reports.services import do_publish_all as publish_all

        published, failed = publish_all()
        self.stdout.write(f"published the STIX form of {published} report(s)")
        if failed:
            for line in failed[:20]:
                self.stderr.write(line)
            raise CommandError(f"{len(failed)} report(s) could not be published (see above)")
