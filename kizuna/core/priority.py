"""Background work yields the CPU to interactive requests: an import run from the command line and every ``kizuna
worker`` lower their own scheduling priority (``KIZUNA_BACKGROUND_NICE``, default 10; 0 leaves it alone). Measured
beside a 200 MB import on 2 cores (docs/performance.md): interactive p95 2.2 s -> 1.6 s, reads 2.2 s -> 1.1-1.3 s."""

from __future__ import annotations

import logging
import os

from django.conf import settings

logger = logging.getLogger("kizuna.priority")


def background_priority() -> int:
    """Lower this process's priority by the configured niceness (once: a process already at least that nice is left
    alone). Returns the niceness now. Child processes (the import's parser) inherit it."""
    wanted = int(getattr(settings, "KIZUNA_BACKGROUND_NICE", 10))
    current = os.nice(0)
    if wanted > current:
        try:
            current = os.nice(wanted - current)
        except OSError as exc:  # a platform that refuses: run at normal priority rather than not at all
            logger.warning("could not lower the priority of background work: %s", exc)
    return current
