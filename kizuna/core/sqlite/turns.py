"""Turns at SQLite's one write lock: writers that wait for it say so, and imports let them go first.

SQLite lets one connection write at a time. A connection that finds the lock taken sleeps in SQLite's busy handler
and tries again: after 1, 2, 5, 10, 15, 20, 25, 25, 25, 50, 50 ms, then every 100 ms. A writer that commits and
begins again within a few milliseconds (an import committing slice after slice) holds the lock nearly all the time,
and a waiting writer, asleep between two tries, misses nearly every gap: measured on main (7281bdb) beside one
import of 92 MB, single writes waited 2.3-7.3 s (issue 12: 13 s beside a 200 MB import, 19.95 s beside two, just
under the 20 s busy timeout).

So Kizuna's connections to a SQLite file say when they wait for the write lock, by holding a shared ``flock`` on a
file beside the database while they do (``flock`` locks belong to an open file, so threads of ``kizuna serve`` and
separate processes such as ``kizuna stix import`` signal alike):

- an ordinary write (the backend's BEGIN IMMEDIATE, ``kizuna.core.sqlite.base``) holds ``<database>-writers``
  while it tries the lock every few milliseconds (``take``) instead of sleeping in SQLite's busy handler;
- an import between two slices (``Turns.begin``) first waits while anyone holds ``-writers`` (at most
  ``GIVE_WAY_SECONDS``, or longer after a long slice: ``IMPORT_SHARE``), then, holding ``<database>-imports``, tries
  the lock in the same way; after each slice it commits, it leaves the lock free for a moment when another import
  waits (``Turns.after_commit``).

Nobody waiting costs an import nothing. Writers that are not Kizuna's (the sqlite3 shell) do not signal: they get
the lock when their busy handler happens to try between two slices.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from sqlite3 import OperationalError

try:
    import fcntl
except ImportError:  # not POSIX: nobody can signal, and imports give way after every slice instead
    fcntl = None  # type: ignore[assignment]

WRITERS = "writers"
IMPORTS = "imports"
# Longest an import waits for ordinary writers before its next slice. They try the lock every few milliseconds
# (``take``), so those waiting when a slice ends are through in a few tens of milliseconds; a stream of writers that
# keeps someone waiting all the time (16 clients writing as fast as they can) gets this long, then the import
# competes for the lock like any of them, and writes a slice. Measured with 0.3 s and retries that gave way again:
# beside such a stream the import crawled (240,000 objects in 2.5 minutes).
GIVE_WAY_SECONDS = 0.1
# While ordinary writers keep waiting, an import takes at most about this share of the write lock: after a slice it
# gives way for up to (1 - share) / share times as long as it held the lock (at least GIVE_WAY_SECONDS), and takes
# the lock at once whenever nobody waits. Without it, beside 16 writers and 8 readers sending back to back, the
# import held the lock 55% of the time (93 slices of up to 0.24 s, each after 0.1 s of giving way) and their p95
# went from 0.58 s to 2.0 s (benchmarks/bench_load.py). Nobody waiting costs the import nothing.
IMPORT_SHARE = 0.3
# Longest it leaves the lock to another import after a slice: the other tries every POLL seconds (``begin``).
IMPORT_GAP_SECONDS = 0.03
POLL = 0.003


def signal_path(database: str, kind: str = WRITERS) -> str:
    """The file whose shared locks say "waiting for the write lock of ``database``" (``kind``: writers or imports)."""
    return f"{database}-{kind}"


def _open(path: str) -> int:
    if fcntl is None:
        return -1
    try:
        return os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError:  # a read-only folder: nobody signals, as with any other SQLite client
        return -1


@contextmanager
def waiting(path: str) -> Iterator[None]:
    """Hold a shared lock on ``path`` for the time of the block (a writer waiting for the write lock)."""
    fd = _open(path)
    if fd < 0:
        yield
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_SH)
        yield
    finally:
        os.close(fd)  # releases the lock


def take(begin: Callable[[], None], cursor: Callable[[], object], timeout: float,
         before_retry: Callable[[], object] | None = None) -> None:
    """Take the write lock with ``begin`` (BEGIN IMMEDIATE), trying again every few milliseconds while it is taken.

    SQLite's busy handler is off meanwhile (``cursor``: a cursor of the same connection): its sleeps grow to 100 ms,
    so a waiting writer was likely to find the lock taken again by one that arrived later, and the unlucky ones
    waited seconds behind a stream of short writers (measured: 16 report writers through ``kizuna serve``, p95
    0.91 s and single writes up to 6 s with no import running). After ``timeout`` seconds the lock error is
    raised, as the busy handler would."""
    run = cursor().execute  # type: ignore[attr-defined]
    run("PRAGMA busy_timeout = 0")
    try:
        start = time.monotonic()
        delay = POLL / 4
        while True:
            try:
                begin()
                if _began(cursor):
                    return
                # A BEGIN IMMEDIATE tried again after SQLITE_BUSY can return without error and without a transaction
                # (Python 3.11's sqlite3, under contention): what followed ran in autocommit, outside the write lock,
                # and two audit appends took the same seq (tests/core/test_sqlite_turns.py). Try again, as if busy.
                if time.monotonic() - start > timeout:
                    raise OperationalError("database is locked")
            except Exception as exc:
                if not _locked(exc) or time.monotonic() - start > timeout:
                    raise
            if before_retry is not None:
                before_retry()
            time.sleep(delay)
            delay = min(delay * 2, POLL)
    finally:
        run(f"PRAGMA busy_timeout = {int(timeout * 1000):d}")


def _began(cursor: Callable[[], object]) -> bool:
    """Whether the connection behind ``cursor`` is in a transaction now (True when that cannot be read)."""
    raw = getattr(getattr(cursor(), "cursor", None), "connection", None)
    return bool(getattr(raw, "in_transaction", True))


def _locked(exc: Exception) -> bool:
    """Whether ``exc`` means "the lock is taken: try again". Besides SQLite's own words, Python 3.11's sqlite3 under
    contention sometimes turns a busy BEGIN into ``OperationalError: not an error`` (SQLite's message for SQLITE_OK,
    read after the statement was reset): seen once in 6,400 writes beside 16 others (benchmarks/bench_load.py), a 500
    until it was retried like a busy one."""
    text = str(exc).lower()
    return "locked" in text or "busy" in text or text == "not an error"


class Turns:
    """The importing side of the turns, for one import on one connection to ``database``."""

    def __init__(self, database: str) -> None:
        self.database = database
        self.fds: dict[str, int] = {}  # opened at the first look
        self.last_held = 0.0  # seconds the import's last slice held the write lock (set by its caller)

    def others_waiting(self, kind: str) -> bool:
        """Whether another connection waits for the write lock (always, when nobody can tell: no flock)."""
        if kind not in self.fds:
            self.fds[kind] = _open(signal_path(self.database, kind))
        fd = self.fds[kind]
        if fd < 0:
            return True
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False

    def give_way(self, kind: str, longest: float) -> float:
        """Wait while others of ``kind`` wait for the lock, at most ``longest`` seconds; the seconds waited."""
        start = time.monotonic()
        deadline = start + longest
        while self.others_waiting(kind):
            now = time.monotonic()
            if now >= deadline:
                break
            time.sleep(min(POLL, deadline - now))
        return time.monotonic() - start

    def after_commit(self) -> float:
        """After a slice: leave the lock to another import that waits for it (briefly); the seconds waited."""
        return self.give_way(IMPORTS, IMPORT_GAP_SECONDS) if self.others_waiting(IMPORTS) else 0.0

    def begin(self, begin: Callable[[], None], cursor: Callable[[], object], timeout: float) -> float:
        """Take the write lock with ``begin`` (BEGIN IMMEDIATE), ordinary writers first; the seconds waited."""
        start = time.monotonic()
        self.give_way(WRITERS, max(GIVE_WAY_SECONDS, self.last_held * (1 - IMPORT_SHARE) / IMPORT_SHARE))
        with waiting(signal_path(self.database, IMPORTS)):
            take(begin, cursor, timeout)
        return time.monotonic() - start

    def close(self) -> None:
        for fd in self.fds.values():
            if fd >= 0:
                os.close(fd)
        self.fds.clear()
