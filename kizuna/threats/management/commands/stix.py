"""``kizuna stix import FILE --user USERNAME`` and ``kizuna stix export --user USERNAME [-o FILE] [--type T]``.

Import streams the bundle (a 1 GB file does not need 1 GB of memory), shows a progress bar on stderr (plain text,
updated in place with ``\\r``), then prints the summary: accepted, unchanged, rejected by reason, and the first
rejections with their index in ``objects``, id and reason. Objects without a Kizuna label marking get the default
label: ``--default-label '{"policy": "NATO", ...}'`` (the API form) or built from ``--releasable-to``,
``--community``, ``--tlp`` and ``--classification``. The exit status is non-zero when nothing was accepted and
something was rejected (or the file was not a readable bundle).

Export writes a STIX 2.1 bundle of what the user may see (to stdout or ``-o FILE``).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any, TextIO

from django.core.management.base import CommandError, CommandParser

from kizuna.core.management.base import KizunaCommand
from kizuna.core.priority import background_priority
from kizuna.directory.commands import named_user
from kizuna.labels import Label, LabelError
from kizuna.threats.importer import ImportSummary
from kizuna.threats.services import do_import_bundle

SHOWN_ERRORS = 20


def _default_label(options: dict[str, Any]) -> Label:
    given = options.get("default_label")
    parts = [options.get("releasable_to"), options.get("community"), options.get("tlp"), options.get("classification")]
    if given and any(parts):
        raise CommandError("give either --default-label or --releasable-to/--community/--tlp/--classification")
    try:
        if given:
            try:
                return Label.from_api(json.loads(given))
            except json.JSONDecodeError as exc:
                raise CommandError(f"--default-label is not valid JSON: {exc.msg}") from None
        releasable = [v.strip() for r in options.get("releasable_to") or [] for v in r.split(",") if v.strip()]
        communities = [v.strip() for c in options.get("community") or [] for v in c.split(",") if v.strip()]
        if not releasable:
            raise CommandError("a default label is required: --default-label JSON, or at least --releasable-to")
        categories: dict[str, list[str] | tuple[str, ...] | set[str]] = {"releasable_to": releasable}
        if communities:
            categories["communities"] = communities
        return Label.build("NATO", options.get("classification") or "UNCLASSIFIED", categories,
                           options.get("tlp") or "AMBER")
    except LabelError as exc:
        raise CommandError(f"default label: {exc}") from None


def _size(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GB"


class ProgressBar:
    """``[#####.....]  42%  12.3 MB of 29.0 MB  20,000 accepted  3 rejected`` on one line, rewritten with \\r."""

    def __init__(self, out: TextIO, enabled: bool) -> None:
        self.out, self.enabled, self.started, self.shown = out, enabled, time.monotonic(), False

    def __call__(self, summary: ImportSummary) -> None:
        if not self.enabled:
            return
        total = summary.total_bytes
        share = min(summary.read_bytes / total, 1.0) if total else 0.0
        filled = int(share * 30)
        elapsed = max(time.monotonic() - self.started, 1e-6)
        rate = (summary.accepted + summary.unchanged + summary.rejected) / elapsed
        line = (f"\r[{'#' * filled}{'.' * (30 - filled)}] {share * 100:3.0f}%  {_size(summary.read_bytes)} of "
                f"{_size(total)}  {summary.accepted:,} accepted  {summary.unchanged:,} unchanged  "
                f"{summary.rejected:,} rejected  {rate:,.0f}/s ")
        self.out.write(line)
        self.out.flush()
        self.shown = True

    def end(self) -> None:
        if self.shown:
            self.out.write("\n")
            self.out.flush()


class Command(KizunaCommand):
    help = "Import a STIX 2.1 bundle, or export one of what a user may see."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = self.add_subcommands(parser)
        imp = sub.add_parser("import", help="import a STIX 2.1 bundle (streamed)",
                             description="Import a STIX 2.1 bundle file, streamed, with a progress bar on stderr.")
        imp.add_argument("file", help="the bundle (JSON), or - for standard input")
        imp.add_argument("--user", required=True, help="the importing user (originator: their organisation)")
        imp.add_argument("--default-label", help="label for objects without a Kizuna label marking, API form (JSON)")
        imp.add_argument("--releasable-to", action="append", help="default label: nations/groups, e.g. NATO,IP4")
        imp.add_argument("--community", action="append", help="default label: communities, e.g. CYBER")
        imp.add_argument("--tlp", help="default label: TLP (CLEAR, GREEN, AMBER, AMBER+STRICT, RED); default AMBER")
        imp.add_argument("--classification", help="default label: classification; default UNCLASSIFIED")
        imp.add_argument("--no-progress", action="store_true", help="no progress bar")
        exp = sub.add_parser("export", help="export what a user may see as a STIX 2.1 bundle",
                             description="Export a STIX 2.1 bundle of the objects the user may see.")
        exp.add_argument("--user", required=True, help="whose view to export")
        exp.add_argument("-o", "--output", help="file to write (default: standard output)")
        exp.add_argument("--type", action="append", dest="types", help="only objects of this STIX type (repeatable)")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "import":
            self._import(options)
        else:
            self._export(options)

    def _import(self, options: dict[str, Any]) -> None:
        background_priority()  # a long import must not take the CPU from the node's interactive users
        user = named_user(options["user"])
        label = _default_label(options)
        name = options["file"]
        bar = ProgressBar(sys.stderr, not options["no_progress"])
        if name == "-":
            summary = do_import_bundle(user, sys.stdin.buffer, "stdin", label, progress=bar)
        else:
            path = Path(name)
            if not path.is_file():
                raise CommandError(f"no such file: {name}")
            with path.open("rb") as stream:
                summary = do_import_bundle(user, stream, path.name, label, progress=bar)
        bar.end()
        self._summary(summary)
        if summary.accepted == 0 and (summary.rejected or summary.stream_error):
            raise CommandError(summary.stream_error or f"nothing imported: {summary.rejected:,} object(s) rejected")

    def _summary(self, s: ImportSummary) -> None:
        w = self.stdout.write
        w(f"accepted:  {s.accepted:,}")
        w(f"unchanged: {s.unchanged:,}")
        w(f"rejected:  {s.rejected:,}")
        for reason, count in sorted(s.rejected_by_reason.items(), key=lambda kv: (-kv[1], kv[0])):
            w(f"  {count:>9,}  {reason}")
        w(f"default label: {s.default_label_display}")
        if s.writes.slices:
            w(f"write transactions: {s.writes.slices:,}, longest {s.writes.longest:.3f} s, "
              f"{s.writes.waited:.1f} s letting other writers go first")
        if s.errors:
            w(f"first rejections (index, id, reason){' — more not shown' if s.rejected > SHOWN_ERRORS else ''}:")
            for e in s.errors[:SHOWN_ERRORS]:
                w(f"  #{e.index}  {e.id or '-'}  {e.reason}")
        if s.stream_error:
            w(f"stopped: {s.stream_error}")

    def _export(self, options: dict[str, Any]) -> None:
        from kizuna.directory.subjects import subject_for

        user = named_user(options["user"])
        try:
            from kizuna.threats.exporter import write_bundle
        except ImportError:
            raise CommandError("export is not available on this node yet (kizuna.threats.exporter)") from None
        filters: dict[str, Any] = {"types": options["types"]} if options.get("types") else {}
        if options.get("output"):
            with open(options["output"], "w", encoding="utf-8") as target:
                count = write_bundle(subject_for(user), target, **filters)
            self.stderr.write(f"wrote {count:,} objects to {options['output']}")
        else:
            out: TextIO = getattr(self.stdout, "_out", sys.stdout)  # the raw stream: the bundle is not lines of text
            count = write_bundle(subject_for(user), out, **filters)
            out.flush()
            self.stderr.write(f"wrote {count:,} objects")
