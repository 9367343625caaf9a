"""``kizuna worker``: run the node's background jobs (imports, "sync now", the periodic sync with peers, signing,
reminders and digests) outside the web server. Run one per machine or several: each job runs once; each periodic
job once per period. Stops within 5 s on SIGTERM or Ctrl-C, giving back the job it was running."""

from __future__ import annotations

import logging
import os
from typing import Any

from django.core.management.base import CommandError, CommandParser

from kizuna.core.management.base import KizunaCommand
from kizuna.core.priority import background_priority
from kizuna.jobs import queue
from kizuna.jobs.worker import Worker, new_worker_id


class Command(KizunaCommand):
    help = "Run background jobs until stopped (SIGTERM or Ctrl-C: the running job is released and resumed later)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--queue", action="append", default=[],
                            help="only jobs of this queue (repeat for several; default: every queue)")
        parser.add_argument("--interval", type=float, default=0.2, help="seconds between polls of an empty queue")
        parser.add_argument("--max-jobs", type=int, default=None, help="stop after this many jobs")
        parser.add_argument("--until-idle", action="store_true", help="stop when no job is ready (batch run)")
        parser.add_argument("--no-periodic", action="store_true",
                            help="do not enqueue periodic jobs (another worker does)")
        parser.add_argument("--worker-id", default="", help="a name unique among workers (default: host-pid-random)")
        parser.add_argument("--parent-pid", type=int, default=None,
                            help="stop when this process is no longer the parent (kizuna serve starts the worker so)")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["interval"] < 0.01:
            raise CommandError("--interval must be at least 0.01 seconds")
        if options["max_jobs"] is not None and options["max_jobs"] < 1:
            raise CommandError("--max-jobs must be at least 1")
        background_priority()  # background work yields the CPU to the web server's requests (KIZUNA_BACKGROUND_NICE)
        if not logging.getLogger().handlers:
            logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
        worker = Worker(
            worker_id=(options["worker_id"] or new_worker_id())[:64], queues=options["queue"] or None,
            interval=options["interval"], max_jobs=options["max_jobs"], until_idle=options["until_idle"],
            periodic=not options["no_periodic"], parent_pid=options["parent_pid"],
        )
        worker.install_signals()
        periodic = ", ".join(f"{p.name} every {p.every.total_seconds():g} s" for p in queue.periodic_jobs())
        self.stdout.write(f"kizuna worker {worker.worker_id} (pid {os.getpid()}) running; periodic jobs: "
                          f"{periodic or 'none'}; stop with Ctrl-C or SIGTERM")
        self.stdout.flush()
        done = worker.run()
        self.stdout.write(f"kizuna worker {worker.worker_id} stopped after {done} job(s)")
