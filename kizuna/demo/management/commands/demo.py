"""``kizuna demo``: load the demo scenario (idempotent) and print the demo logins.

The scenario is in the ``kizuna/demo/`` package and each module's ``demo.py``. Every demo account has the same
published password, so the command refuses to run on a node that already has other users unless ``--force`` is given.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.test.utils import override_settings

from kizuna.core.management.base import KizunaCommand, format_table
from kizuna.demo import DEMO_PASSWORD, DemoRefused, demo_logins, load_demo, visible_titles


class Command(KizunaCommand):
    help = "Load the demo scenario of the NATO liaison office in Tokyo (idempotent) and print the demo logins."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--force", action="store_true",
                            help="load even if the node has users that are not demo users (test nodes only)")
        parser.add_argument("--quiet", action="store_true", help="do not print the table of logins")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            # The demo's invitations and notices go to the inboxes; emailing them to invented addresses would only
            # flood the console.
            with override_settings(EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend"):
                result = load_demo(force=options["force"])
        except DemoRefused as exc:
            raise CommandError(str(exc)) from None
        if result.changed:
            records = "".join(f", {count} {noun}" for noun, count in result.records_created)
            self.stdout.write(
                f"demo data loaded: {result.organisations_created} organisation(s), {result.users_created} user(s)"
                f"{records} created"
            )
        else:
            self.stdout.write("demo data already loaded; nothing changed")
        if options["quiet"]:
            return
        self._print_logins()

    def _print_logins(self) -> None:
        logins = demo_logins()
        rows = [("USERNAME", "NATION", "ORGANISATION", "ROLE", "CLEARANCE", "COMMUNITIES", "SEES")]
        rows += [
            (x.username, x.nation, x.organisation, x.role, x.clearance, x.communities, f"{x.visible} of {x.total} reports")
            for x in logins
        ]
        self.stdout.write("")
        self.stdout.write("Demo logins (fictional people and content) — the password of every demo account is:")
        self.stdout.write(f"    {DEMO_PASSWORD}")
        self.stdout.write("")
        self.stdout.write(format_table(rows))
        names = {x.username for x in logins}
        if {"hanako", "minjun"} <= names:
            jpn, kor = visible_titles("hanako"), visible_titles("minjun")
            self.stdout.write("")
            self.stdout.write(
                f"Side by side: hanako (Japan) sees {len(jpn - kor)} report(s) that minjun (Korea) cannot, "
                f"and minjun sees {len(kor - jpn)} that hanako cannot."
            )
