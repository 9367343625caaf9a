"""``kizuna audit verify|tail``: check the hash chain of the audit log, and show its latest entries.

``verify`` first seals the entries written since the last sealing pass (``kizuna.core.audit.seal``; a worker does it
every few seconds), then prints one line per problem (an edited entry, a deleted one, a broken link) and exits 1, or prints
``audit log intact: N entries`` and exits 0. ``--expect-head SEQ:HASH`` also checks that an entry recorded earlier
(for example the head printed by a previous run, kept off the node) is still there unchanged, which detects the one
thing a chain alone cannot: entries cut from its end.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser

from kizuna.core import audit
from kizuna.core.management.base import KizunaCommand, format_table
from kizuna.core.models import AuditEntry, LabelRecord


def _parse_head(value: str) -> tuple[int, str]:
    seq, sep, digest = value.partition(":")
    if not sep or not seq.isdigit() or len(digest) < 8:
        raise CommandError(f"bad --expect-head {value!r}; write SEQ:HASH as printed by `kizuna audit verify`")
    return int(seq), digest.lower()


class Command(KizunaCommand):
    help = "Verify the audit log's hash chain, or show its latest entries."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = self.add_subcommands(parser)
        verify = sub.add_parser("verify", help="report any edited or deleted entry",
                                description="Walk the hash chain; exit 1 with one line per problem.")
        verify.add_argument("--expect-head", default="", metavar="SEQ:HASH",
                            help="an entry recorded earlier that must still be present and unchanged")
        tail = sub.add_parser("tail", help="show the latest entries", description="Show the latest audit entries.")
        tail.add_argument("-n", "--lines", type=int, default=20, help="how many entries (default 20)")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "verify":
            self._verify(options["expect_head"])
        else:
            self._tail(options["lines"])

    def _verify(self, expect_head: str) -> None:
        expected = _parse_head(expect_head) if expect_head else None
        sealed = audit.seal()
        problems = [f"entry #{p.seq}: {p.reason}" for p in audit.verify()]
        if expected is not None:
            seq, digest = expected
            found = AuditEntry.objects.filter(seq=seq).values_list("hash", flat=True).first()
            if found is None:
                problems.append(f"entry #{seq}: expected head is missing (entries were cut from the end of the log)")
            elif not found.startswith(digest):
                problems.append(f"entry #{seq}: hash differs from the expected head")
        count = AuditEntry.objects.count()
        if problems:
            for line in problems:
                self.stdout.write(line)
            raise CommandError(f"audit log damaged: {len(problems)} problem(s) in {count} entries")
        head = audit.head()
        just_now = f" ({sealed} sealed just now)" if sealed else ""
        suffix = f"; head {head[0]}:{head[1]}" if head else ""
        self.stdout.write(f"audit log intact: {count} entries{just_now}{suffix}")

    def _tail(self, lines: int) -> None:
        if lines < 1:
            raise CommandError("-n must be at least 1")
        entries = list(AuditEntry.objects.order_by("-id")[:lines])[::-1]
        if not entries:
            self.stdout.write("the audit log is empty")
            return
        labels = dict(
            LabelRecord.objects.filter(pk__in={e.label_id for e in entries if e.label_id}).values_list("pk", "display")
        )
        rows = [("SEQ", "AT (UTC)", "ACTOR", "ACTION", "TARGET", "LABEL", "FROM")]
        for e in entries:
            target = f"{e.target_type}:{e.target_ids}" if e.target_type else "-"
            if len(target) > 40:
                target = target[:39] + "…"
            rows.append((
                str(e.seq) if e.seq is not None else "(unsealed)",
                e.at.strftime("%Y-%m-%d %H:%M:%S"),
                e.actor,
                e.action,
                target,
                labels.get(e.label_id, "-") if e.label_id else "-",
                e.address or "-",
            ))
        self.stdout.write(format_table(rows))
