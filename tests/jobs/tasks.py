"""Jobs for the queue's tests (imported by name in the worker processes): record each run in a file, one line per run,
so that a job run twice shows as two lines."""

from __future__ import annotations

import os
import time

from django_tasks import task


@task()
def record(n: int, path: str, seconds: float = 0.0) -> int:
    time.sleep(seconds)
    with open(path, "a", encoding="utf-8") as out:  # one short append per run: atomic with O_APPEND
        out.write(f"{n} {os.getpid()}\n")
    return n


@task()
def nothing(n: int) -> int:
    """The benchmark's no-op job."""
    return n
