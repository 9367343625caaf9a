"""``kizuna sync``: pull from peers now (all enabled peers with a TAXII URL, or those named). ``--loop`` is kept for
service units written before the job queue: it runs ``kizuna worker`` (which signs what this node serves and pulls
from each peer on its schedule, as the old loop did, and runs every other background job), after saying so on stderr.

The exit status is 0 when every collection synced, 1 when any failed (each failure is one line on stderr)."""

from __future__ import annotations

import sys
from typing import Any

from django.core.management import call_command
from django.core.management.base import CommandParser

from kizuna.core.management.base import KizunaCommand
from kizuna.federation import sync


class Command(KizunaCommand):
    help = "Pull from federation peers now, or run the sync worker (--loop)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("peers", nargs="*", help="peer names (default: every enabled peer with a URL)")
        parser.add_argument("--loop", action="store_true", help="run `kizuna worker` (kept for older service units)")
        parser.add_argument("--tick", type=float, default=5.0, help="ignored (the worker's periods are in docs/operations.md)")
        parser.add_argument("--page-size", type=int, default=sync.PAGE_LIMIT)
        parser.add_argument("--max-pages", type=int, default=None, help="stop each collection after N pages")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["loop"]:
            self.stderr.write("kizuna sync --loop: runs `kizuna worker`, the one worker of every background job "
                              "(the periodic sync and signing included); use `kizuna worker` in new service units")
            call_command("worker", stdout=self.stdout, stderr=self.stderr)
            return
        from kizuna.federation.models import Peer
        from kizuna.federation.outbound import sign_pending

        names = options["peers"] or None
        if names:
            known = set(Peer.objects.filter(name__in=names).values_list("name", flat=True))
            missing = [n for n in names if n not in known]
            if missing:
                from kizuna.core.errors import ServiceError

                raise ServiceError(f"no peer named {', '.join(missing)}")
        sign_pending()
        failed = False
        results = []
        for peer in Peer.objects.select_related("organisation", "account").filter(enabled=True).exclude(taxii_url=""):
            if names and peer.name not in names:
                continue
            try:
                results.extend(sync.sync_peer(peer, page_limit=options["page_size"], max_pages=options["max_pages"]))
            except sync.SyncBusy as exc:
                self.stderr.write(f"kizuna sync: error: {exc}")
                failed = True
        for r in results:
            rate = (r.received + r.unchanged) / r.seconds if r.seconds else 0.0
            line = (f"{r.peer} / {r.collection}: {r.pages} page(s), {r.received} received, {r.unchanged} unchanged, "
                    f"{r.quarantined} quarantined in {r.seconds:.1f} s ({rate:,.0f} objects/s)")
            if r.error:
                failed = True
                self.stderr.write(f"kizuna sync: error: {line}: {r.error}")
            else:
                self.stdout.write(line)
        if not results and not failed:
            self.stdout.write("no peer to pull from")
        if failed:
            sys.exit(1)
