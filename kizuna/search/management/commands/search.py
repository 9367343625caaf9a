"""``kizuna search reindex [--type KEY ...]``: rebuild the search entries from the records (idempotent; every type,
or those named). ``kizuna search find QUERY --user NAME``: what a search by NAME finds (titles, types, urls), and a
"did you mean" line when it finds nothing and a corrected query would."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser

from kizuna.core.management.base import KizunaCommand
from kizuna.directory.commands import named_user
from kizuna.directory.subjects import subject_for
from kizuna.search.index import rebuild
from kizuna.search.query import find


class Command(KizunaCommand):
    help = "Rebuild the search index; try a search."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = self.add_subcommands(parser)
        reindex = sub.add_parser("reindex", help="rebuild the search entries from the records",
                                 description="Rebuild every search entry from the records (idempotent).")
        reindex.add_argument("--type", action="append", dest="types", help="only this type key (repeatable)")
        show = sub.add_parser("find", help="search as a user", description="Show what QUERY finds for a user.")
        show.add_argument("query")
        show.add_argument("--user", required=True, help="whose view of the node to search")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "find":
            results = find(subject_for(named_user(options["user"])), options["query"])
            for hit in results.hits:
                self.stdout.write(f"{hit.kind}\t{hit.record_id}\t{hit.url}\t{hit.title}")
            if results.suggestion:
                self.stdout.write(f"did you mean: {results.suggestion}")
            return
        counts = rebuild(options["types"])
        self.stdout.write("search: " + ", ".join(f"{n} {kind}" for kind, n in counts.items()) + " indexed")
