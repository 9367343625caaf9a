"""``kizuna worker``'s loop: claim a job, run it with a heartbeat renewing its lease, repeat; enqueue the periodic
jobs that are due; make ready again the jobs of workers that died; stop within seconds on SIGTERM or SIGINT.

Stopping: an idle worker stops at once. A busy one lets its job reach its next ``queue.checkpoint()`` (after each
committed batch of an import or of signing), which raises ``Interrupted``: the job is released, ready for any worker
to resume from what it committed. Should the job reach no checkpoint in time (one long database call, a job without
checkpoints), the process exits after ``HARD_STOP`` seconds anyway and the job's lease expires: another worker then
resumes it, as after a crash.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import time
from dataclasses import dataclass, field
from types import FrameType

from django.db import close_old_connections, connection
from django.utils.crypto import get_random_string

from kizuna.jobs import queue

log = logging.getLogger("kizuna.jobs")

HARD_STOP = 4.5  # seconds from the stop signal to exit whatever happens: under the 5 s a service manager is promised
HOUSEKEEPING = 1.0  # seconds between checks for periodic jobs due and expired leases


def new_worker_id() -> str:
    return f"{socket.gethostname()[:30]}-{os.getpid()}-{get_random_string(6)}"


@dataclass
class Worker:
    worker_id: str = field(default_factory=new_worker_id)
    queues: list[str] | None = None  # None: every queue
    interval: float = 0.2  # seconds between polls when the queue is empty
    max_jobs: int | None = None
    until_idle: bool = False  # stop when no job is ready (batch runs, benchmarks)
    periodic: bool = True  # enqueue the periodic jobs that are due
    parent_pid: int | None = None  # stop when this process (``kizuna serve --worker``) is gone
    done: int = 0
    stop: threading.Event = field(default_factory=threading.Event)
    _current: str | None = None

    def install_signals(self) -> None:
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self._on_signal)

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        if self.stop.is_set():
            return
        self.stop.set()
        queue.request_stop()
        log.info("worker %s: %s received, stopping", self.worker_id, signal.strsignal(signum))
        if self._current is not None:  # a job that reaches no checkpoint in time is left to its lease's expiry
            killer = threading.Timer(HARD_STOP, os._exit, args=(3,))
            killer.daemon = True
            killer.start()

    def run(self) -> int:
        """Run until stopped (or idle, or ``max_jobs`` done); the number of jobs run."""
        next_housekeeping = 0.0
        try:
            while not self.stop.is_set():
                if self.parent_pid is not None and os.getppid() != self.parent_pid:
                    log.info("worker %s: the server that started it is gone; stopping", self.worker_id)
                    break
                close_old_connections()
                now = time.monotonic()
                if now >= next_housekeeping:
                    next_housekeeping = now + HOUSEKEEPING
                    self._housekeeping()
                result = queue.claim(self.worker_id, self.queues)
                if result is None:
                    if self.until_idle:
                        break
                    self.stop.wait(self.interval)
                    continue
                self._current = str(result.pk)  # from here a stop signal also arms the hard stop
                if self.stop.is_set():  # the stop came during the claim: give the job straight back
                    queue.release(result.pk, self.worker_id)
                    break
                try:
                    with queue.heartbeat(self.worker_id):
                        queue.execute(result, self.worker_id)
                except queue.Interrupted:
                    break
                finally:
                    self._current = None
                self.done += 1
                if self.max_jobs is not None and self.done >= self.max_jobs:
                    break
        finally:
            self.stop.set()
            connection.close()
        return self.done

    def _housekeeping(self) -> None:
        try:
            queue.recover_expired()
            if self.periodic:
                queue.enqueue_due_periodic()
        except Exception:  # the worker outlives a busy database; the next round tries again
            log.exception("worker %s: housekeeping failed", self.worker_id)
