"""Admission control for ``kizuna serve`` on SQLite: at most ``KIZUNA_ACTIVE_REQUESTS`` requests of one worker
process run the application at the same time (default 3 on a SQLite file; off on PostgreSQL).

Why: a gunicorn worker has 16 threads (``kizuna serve``: enough that idle and slow clients never hold them all), and
on SQLite only one connection writes at a time. With 16 threads in the application, the one holding the write lock
shares the interpreter lock with up to 15 others that run Python or poll for the write lock, so every write
transaction lasts longer and the queue behind it grows. Measured with ``benchmarks/bench_load.py`` (16 writers and 8
readers, no import): 4 threads a worker gave p95 0.43-0.52 s and 79-80 writes/s, 16 threads 0.77-0.94 s and 50-69
writes/s. Fewer threads would let idle connections hold them all, so the threads stay and this gate lets a few at a
time into the application; the others wait on a semaphore, which costs no CPU. The same benchmark, 16 threads and
the gate at 2 / 3 / 4 / off: worst p95 0.37-0.44 / 0.38-0.47 / 0.62-0.75 / 0.89-1.16 s, writes 77-81 / 89-92 /
85-92 / 58-63 per second. A request body that fits in memory
(``DATA_UPLOAD_MAX_MEMORY_SIZE``) is read before the request waits for its turn, so a client that sends its body
slowly holds a thread (bounded by ``KIZUNA_CLIENT_TIMEOUT``) but never a turn; larger uploads (bundles) are streamed
while they hold theirs. A streamed response's body is sent after the turn is given back.
"""

from __future__ import annotations

import io
import os
import threading
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
SQLITE_DEFAULT = 3


def limit(database: dict[str, Any] | None = None) -> int:
    """The number of requests a worker runs at once; 0 when unlimited (``KIZUNA_ACTIVE_REQUESTS``; by default 3 on a
    SQLite file, unlimited on PostgreSQL, whose writers do not wait for each other). ``database``: the settings of
    the default database (those of this node when not given)."""
    value = os.environ.get("KIZUNA_ACTIVE_REQUESTS", "").strip()
    if value:
        try:
            return max(0, int(value))
        except ValueError:
            raise ImproperlyConfigured(f"KIZUNA_ACTIVE_REQUESTS must be a whole number, not {value!r}") from None
    config: Any = database if database is not None else settings.DATABASES["default"]
    on_sqlite_file = config["ENGINE"] == "kizuna.core.sqlite" and str(config["NAME"]) != ":memory:"
    return SQLITE_DEFAULT if on_sqlite_file else 0


def _read_small_body(environ: dict[str, Any]) -> None:
    """Read a body that fits in memory now, so the request waits for its turn with the whole of it in hand."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return  # Django answers the malformed header itself
    if 0 < length <= settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
        environ["wsgi.input"] = io.BytesIO(environ["wsgi.input"].read(length))


class Admission:
    """A WSGI application that lets at most ``size`` requests into ``app`` at once."""

    def __init__(self, app: WSGIApp, size: int) -> None:
        self.app = app
        self.turns = threading.BoundedSemaphore(size)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        _read_small_body(environ)
        with self.turns:
            return self.app(environ, start_response)


def admitted(app: WSGIApp, database: dict[str, Any] | None = None) -> WSGIApp:
    """``app`` behind the gate when a limit applies, else ``app`` itself."""
    size = limit(database)
    return Admission(app, size) if size > 0 else app
