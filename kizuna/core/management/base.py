"""The base of Kizuna's own management commands: every refusal reaches the terminal as ONE readable line on stderr
(``kizuna user: error: unknown nation 'XXX'; ...``) with a non-zero exit status, never a traceback.

Services raise ``ServiceError`` (and the label engine ``LabelError``) with messages that are safe to show; commands
may let them escape and this base turns them into ``CommandError``. Programmatic callers (``call_command``, the tests)
get the ``CommandError`` itself.
"""

from __future__ import annotations

import getpass
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError

from kizuna.core.errors import ServiceError
from kizuna.labels import LabelError


class OneLineParser(CommandParser):
    """An argument parser whose errors are one line (``prog: error: message``) instead of usage plus message;
    ``--help`` still prints the full usage."""

    def error(self, message: str) -> NoReturn:
        if self.called_from_command_line:
            self.exit(2, f"{self.prog}: error: {message}\n")
        raise CommandError(f"Error: {message}")


class KizunaCommand(BaseCommand):
    """A management command whose errors are one line on stderr."""

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        # Django builds a plain CommandParser; only its error() differs from ours, so switching the class is safe.
        parser.__class__ = OneLineParser
        return parser

    def add_subcommands(self, parser: CommandParser) -> Any:
        """Sub-commands (``user add``, ``token create``) whose parsers also fail in one line."""
        return parser.add_subparsers(dest="action", metavar="ACTION", required=True, parser_class=OneLineParser)

    def execute(self, *args: Any, **options: Any) -> Any:
        try:
            try:
                return super().execute(*args, **options)
            except (ServiceError, LabelError) as exc:
                raise CommandError(str(exc)) from None
            except DatabaseError as exc:
                first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                raise CommandError(f"database error: {first} (has `kizuna migrate` been run?)") from None
        except CommandError as exc:
            if not getattr(self, "_called_from_command_line", False) or options.get("traceback"):
                raise
            name = type(self).__module__.rsplit(".", 1)[-1]
            message = " ".join(str(exc).split())  # one line, whatever the message held
            self.stderr.write(f"kizuna {name}: error: {message}")
            sys.exit(exc.returncode)


def cli_actor() -> str:
    """Who the audit log names for a change made from the command line: the operating-system account."""
    try:
        return f"cli:{getpass.getuser()}"[:150]
    except (KeyError, OSError):  # no passwd entry (some containers)
        return "cli"


def format_table(rows: Sequence[Sequence[str]]) -> str:
    """Plain columns, wide enough for every cell; the first row is the heading."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows)
