"""``kizuna consultations_stix publish``: store the STIX form of every local consultation record that has none for its
current state (records written before consultations travelled to peers); idempotent. Records written since carry
theirs already. Drafts stay home: agenda items and minutes only once their meeting published them."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser

from kizuna.core.management.base import KizunaCommand


class Command(KizunaCommand):
    help = "Consultations over federation."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = self.add_subcommands(parser)
        sub.add_parser("publish", help="store the STIX form of consultation records that have none yet",
                       description="Store the STIX form (kizuna-consultation-series, kizuna-meeting, "
                                   "kizuna-agenda-item, kizuna-minutes, kizuna-decision, kizuna-action) of every local "
                                   "consultation record whose current state has none yet, so that it is served over "
                                   "TAXII and travels to peers.")

    def handle(self, *args: Any, **options: Any) -> None:
        from kizuna.consultations.services import do_publish_all

        published, failed = do_publish_all()
        self.stdout.write(f"published {published} consultation record version(s)")
        if failed:
            for line in failed[:20]:
                self.stderr.write(line)
            raise CommandError(f"{len(failed)} record(s) could not be published (see above)")
