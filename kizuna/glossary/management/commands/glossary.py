"""``kizuna glossary load [FILE] --user NAME``: load the glossary's starting set (with no FILE: the set shipped with the
node, ``kizuna/glossary/data/terms.json``) under NATO UNCLASSIFIED REL TO NATO, IP4, TLP:CLEAR, as a coordinator or
administrator (their organisation is the originator). Loading again creates only the terms not there yet (by English
term and area). ``kizuna glossary expand QUERY --user NAME``: what a search for QUERY by NAME would be expanded with.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser

from kizuna.core.management.base import KizunaCommand
from kizuna.directory.commands import named_user
from kizuna.directory.subjects import subject_for
from kizuna.glossary import data
from kizuna.glossary.expansion import expand
from kizuna.glossary.services import do_load_terms


class Command(KizunaCommand):
    help = "Load the glossary's starting set; show how a query is expanded."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = self.add_subcommands(parser)
        load = sub.add_parser("load", help="load terms from a terms file (default: the shipped starting set)",
                              description="Load glossary terms; terms already there (English term and area) are "
                                          "left as they are.")
        load.add_argument("file", nargs="?", default="", help="a terms file (default: the shipped one)")
        load.add_argument("--user", required=True, help="a coordinator or administrator (the originator)")
        show = sub.add_parser("expand", help="the expansions of a query, for a user",
                              description="Show the other-language forms a search for QUERY would also look for.")
        show.add_argument("query")
        show.add_argument("--user", required=True, help="whose visible terms to use")

    def handle(self, *args: Any, **options: Any) -> None:
        user = named_user(options["user"])
        if options["action"] == "expand":
            for form in expand(subject_for(user), options["query"]):
                self.stdout.write(form)
            return
        path = Path(options["file"]) if options["file"] else data.SHIPPED
        try:
            entries = data.read_terms(path)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise CommandError(f"cannot read {path}: {exc}") from None
        result = do_load_terms(user, entries)
        self.stdout.write(f"glossary: {result.created} term(s) created, {result.unchanged} already there")
